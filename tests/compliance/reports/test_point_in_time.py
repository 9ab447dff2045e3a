"""Reports read the organisation as it was at the period's end (issue #13): a closed quarter's SOC 2
and ISO 27001 reports regenerated after the organisation changed give the same figures and rows;
the current quarter moves with the organisation; a quarter before the first sync has no data.

The organisation is synced through the real fake `op`; the clock is moved forward (not frozen:
the sync measures durations) so syncs land inside chosen quarters of the future."""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from compliance.reports.builders import build_report
from compliance.reports.document import ReportDocument
from compliance.reports.xlsx import render_xlsx
from compliance.reviews.periods import Period, period_containing
from tests.vaults.conftest import FakeOrg
from vaults import history, sync
from vaults.access import effective_access
from vaults.fake_op import account as fake_account
from vaults.findings.acceptance import accept_risk
from vaults.findings.engine import compute_findings
from vaults.findings.models import Finding
from vaults.models import Account, SyncRun, Vault

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


class Clock:
    """`timezone.now()` running at real speed from a chosen moment."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.offset = datetime.timedelta(0)
        real_now = timezone.now
        monkeypatch.setattr(timezone, "now", lambda: real_now() + self.offset)
        self._real_now = real_now

    def set(self, moment: datetime.datetime) -> None:
        self.offset = moment - self._real_now()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    yield Clock(monkeypatch)


@pytest.fixture
def quarters() -> tuple[Period, Period, Period]:
    """(the real current quarter, the next one, the one after): history is made in the last two."""
    current = period_containing(datetime.datetime.now(datetime.UTC))
    first = period_containing(current.end + DAY)
    return current, first, period_containing(first.end + DAY)


def synced(account: Account) -> SyncRun:
    started, _ = sync.start_sync(account=account, scope=SyncRun.Scope.FULL)
    run = sync.run_sync(sync_run_id=started.pk)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    compute_findings(account=account, sync_run=run)
    return run


def reports(period: Period, now: datetime.datetime) -> dict[str, ReportDocument]:
    return {kind: build_report(kind=kind, period=period, generator="tester", now=now) for kind in ("soc2", "iso27001")}


def content(document: ReportDocument) -> dict[str, Any]:
    """Everything a reader compares across two generations: figures, and per section its KPI values and
    every table row (the Excel rows, not only the PDF's first ones). Generation time, generator and
    chain head live outside the sections."""
    return {
        "figures": document.figures,
        "sections": {s.key: ([(k.label, k.value, k.note) for k in s.kpis],
                             {t.key: [tuple(row) for row in t.rows()] for t in s.tables}) for s in document.sections},
    }


def new_person(fake_org: FakeOrg, name: str) -> dict[str, str]:
    """Someone joins the 1Password account (in no group yet)."""
    stamp = fake_account.format_ts(timezone.now())
    user = {"id": f"NEW{name.upper():0<23}"[:26], "name": name, "email": f"{name.lower()}@acme-demo.example",
            "type": "MEMBER", "state": "ACTIVE", "created_at": stamp, "updated_at": stamp, "last_auth_at": stamp}
    with fake_account.locked_update(fake_org.path) as data:
        data["users"].append(user)
    return user


def readable_vault(account: Account, skip: int = 0) -> Vault:
    """A vault whose grants the sync reads."""
    return Vault.objects.filter(account=account, removed_at=None, grants__isnull=False).distinct().order_by("name")[skip]


@pytest.fixture
def history_org(fake_org: FakeOrg, clock: Clock, quarters: tuple[Period, Period, Period]) -> dict[str, Any]:
    """History starts 20 days into the first quarter; 20 days later one person is given a vault."""
    _, first, _ = quarters
    account = fake_org.add_account()
    clock.set(first.start + 20 * DAY)
    synced(account)
    vault = readable_vault(account)
    clock.set(first.start + 40 * DAY)
    newcomer = new_person(fake_org, "Nora")
    fake_account.set_user_grant(fake_org.path, vault.op_id, newcomer["id"], ["allow_viewing"])
    synced(account)
    return {"account": account, "vault": vault, "newcomer": newcomer, "data": fake_org.data}


def change_the_organisation(fake_org: FakeOrg, account: Account, data: dict[str, Any]) -> None:
    """Grants revoked and added, people suspended, items archived and added."""
    fake_account.set_user_grant(fake_org.path, readable_vault(account, skip=1).op_id, new_person(fake_org, "Omar")["id"],
                                ["allow_managing"])
    for vault_row in data["vaults"][:3]:
        for row in vault_row["user_grants"][:2]:
            fake_account.set_user_grant(fake_org.path, vault_row["id"], row["user_id"], [])
    for user_row in data["users"][1:4]:
        fake_account.set_user_state(fake_org.path, user_row["id"], "SUSPENDED")
    for item in data["items"][:5]:
        fake_account.archive_item(fake_org.path, item["id"])
    for n in range(3):
        fake_account.add_item(fake_org.path, {"vault_id": data["vaults"][0]["id"], "title": f"New database {n}",
                                              "category": "DATABASE"})



def test_a_closed_quarter_regenerated_after_the_organisation_changed_is_identical(
        history_org: dict[str, Any], fake_org: FakeOrg, clock: Clock, quarters: tuple[Period, Period, Period],
        django_user_model: type[User]) -> None:
    _, first, second = quarters
    account = history_org["account"]
    before = reports(first, now=second.start + DAY)
    access_then = len(effective_access(account))

    clock.set(second.start + 10 * DAY)
    change_the_organisation(fake_org, history_org["account"], history_org["data"])
    vault = Vault.objects.filter(account=account, classification=Vault.Classification.PRODUCTION).first()
    assert vault is not None
    Vault.objects.filter(pk=vault.pk).update(classification=Vault.Classification.SHARED, classification_set_by_person=True)
    history.record_classification(account, at=timezone.now())
    synced(account)
    # Findings open at the quarter's end are accepted as risks today (as a person does it, which
    # writes their status history): still open then.
    open_then = Finding.objects.filter(account=account, status=Finding.Status.OPEN, first_seen__lt=first.end)
    accepted = accept_risk(findings=list(open_then.order_by("pk")[:3]), reason="risk owner signed",
                           until=(second.end + DAY).date(), by=django_user_model.objects.create_user("risk_owner"))
    assert len(accepted) == 3
    # The engine resolves what the changes fixed (archived items): findings present at the quarter's end.
    assert Finding.objects.filter(account=account, first_seen__lt=first.end, resolved_at__gte=second.start).exists()
    after = reports(first, now=second.start + 30 * DAY)

    # The organisation really changed: today's access is not what the quarter's end saw.
    assert len(effective_access(account)) != access_then
    for kind in ("soc2", "iso27001"):
        assert content(after[kind]) == content(before[kind]), kind
    figures = after["soc2"].figures
    assert figures["access"]["access_pairs"] == access_then
    assert figures["active_items"] is not None and figures["rotation"]["subject"] is not None


def test_the_closed_quarter_lists_the_access_granted_during_it(
        history_org: dict[str, Any], quarters: tuple[Period, Period, Period]) -> None:
    _, first, second = quarters
    soc2 = reports(first, now=second.start + DAY)["soc2"]

    section = soc2.section("access_changes")
    [table] = section.tables
    rows = list(table.rows())
    newcomer, vault = history_org["newcomer"], history_org["vault"]
    assert [(r[1], r[3], r[4], r[7]) for r in rows] == [("Granted", newcomer["email"], vault.name, "direct")]
    assert first.start + 40 * DAY <= rows[0][0] < first.start + 40 * DAY + datetime.timedelta(minutes=5)
    # History began inside the quarter, and the report says from when.
    assert f"this period from {first.start + 20 * DAY:%Y-%m-%d}" in section.intro


def test_the_current_quarter_moves_with_the_organisation(
        history_org: dict[str, Any], fake_org: FakeOrg, clock: Clock, quarters: tuple[Period, Period, Period]) -> None:
    _, _, second = quarters
    clock.set(second.start + 5 * DAY)
    before = reports(second, now=timezone.now())["soc2"]

    clock.set(second.start + 10 * DAY)
    change_the_organisation(fake_org, history_org["account"], history_org["data"])
    synced(history_org["account"])
    after = reports(second, now=timezone.now())["soc2"]

    assert after.figures["access"] != before.figures["access"]
    assert after.figures["access"]["access_pairs"] == len(effective_access(history_org["account"]))
    assert after.figures["active_items"] != before.figures["active_items"]
    changes = [row[1] for row in after.section("access_changes").tables[0].rows()]
    assert "Removed" in changes and "Granted" in changes


def test_a_quarter_before_the_first_sync_has_no_access_data_not_zero(
        history_org: dict[str, Any], quarters: tuple[Period, Period, Period]) -> None:
    before_history, first, _ = quarters
    documents = reports(before_history, now=first.start + 60 * DAY)

    for kind, document in documents.items():
        figures = document.figures
        assert set(figures["access"].values()) == {None}, kind
        assert figures["active_items"] is None and figures["rotation"]["subject"] is None
        key_figures: dict[object, object] = dict(document.section("summary").tables[0].rows())  # type: ignore[arg-type]
        assert key_figures["Vaults"] == key_figures["User x vault accesses"] == "no data"
        changes = document.section("access_changes")
        assert "no access history" in changes.intro.lower() and not changes.tables
        render_xlsx(document, io.BytesIO())  # "no data" cells render
    # Decoy: the first quarter with history has figures.
    assert reports(first, now=first.end + DAY)["soc2"].figures["access"]["access_pairs"] > 0
