"""Findings as they were at a closed period's end (issue #13, review): a finding row is rewritten in
place (a re-seen finding loses resolved_at, a fixed accepted finding becomes resolved), so reports
read the status spans the engine and the acceptance write (vaults/findings/status_history.py).

The report scenario syncs the organisation through the real fake `op` with the moving clock of
test_point_in_time.py; the span tests run the engine on factory rows."""

from __future__ import annotations

import datetime
import importlib
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db.models import Count
from django.utils import timezone

from compliance.reports.evidence import Evidence
from compliance.reviews.periods import Period
from tests.compliance.reports.test_point_in_time import (  # noqa: F401 — fixtures reused
    DAY,
    Clock,
    clock,
    content,
    history_org,
    quarters,
    reports,
    synced,
)
from tests.vaults.conftest import FakeOrg
from tests.vaults.factories import make_account, make_item, make_secret, make_vault
from vaults.fake_op import account as fake_account
from vaults.findings.acceptance import accept_risk, reopen
from vaults.findings.engine import compute_findings
from vaults.findings.models import Finding, FindingStatusSpan
from vaults.models import Account, Item, Vault

pytestmark = pytest.mark.django_db
WEAK = Finding.Kind.WEAK


def set_password(fake_org: FakeOrg, item_id: str, value: str, strength: str) -> None:
    with fake_account.locked_update(fake_org.path) as data:
        item = fake_account.find(data["items"], item_id)
        assert item is not None
        fake_account.set_secret(data, item, value, strength=strength)
        fake_account.touch_item(data, item)


def plain_logins(fake_org: FakeOrg, account: Account, n: int) -> list[str]:
    """Op ids of active logins with one concealed field (their password) and no weak finding."""
    weak_items = set(Finding.objects.filter(account=account, kind=WEAK).values_list("item__op_id", flat=True))
    synced_ids = set(Item.objects.filter(vault__account=account, archived=False).values_list("op_id", flat=True))
    chosen = []
    for item in fake_org.data["items"]:
        concealed = [f for f in item.get("fields", []) if f.get("type") == "CONCEALED"]
        if (item["category"] == "LOGIN" and item.get("state", "ACTIVE") == "ACTIVE" and len(concealed) == 1
                and concealed[0].get("purpose") == "PASSWORD" and item["id"] in synced_ids
                and item["id"] not in weak_items):
            chosen.append(item["id"])
    assert len(chosen) >= n
    return chosen[:n]


def weak_finding(account: Account, item_op_id: str) -> Finding:
    return Finding.objects.get(account=account, kind=WEAK, item__op_id=item_op_id)


def row_of(rows: list[tuple[Any, ...]], title_part: str) -> tuple[Any, ...]:
    [row] = [r for r in rows if title_part in str(r[2])]
    return row


def violation_rows(document: Any) -> list[tuple[Any, ...]]:
    table = next(t for t in document.section("violations").tables if t.key == "violations")
    return [tuple(r) for r in table.rows()]


def test_a_finding_accepted_then_fixed_and_one_resolved_then_seen_again_keep_the_closed_quarter(
        history_org: dict[str, Any], fake_org: FakeOrg, clock: Clock, quarters: tuple[Period, Period, Period],  # noqa: F811
        django_user_model: type[User]) -> None:
    _, first, second = quarters
    account = history_org["account"]
    officer = django_user_model.objects.create_user("olga")
    accepted_id, reseen_id = plain_logins(fake_org, account, 2)

    # "January": both passwords become weak. "February": one is accepted as a risk, the other fixed.
    clock.set(first.start + 45 * DAY)
    set_password(fake_org, accepted_id, "Zq-accepted-1", "TERRIBLE")
    set_password(fake_org, reseen_id, "Zq-reseen-1", "TERRIBLE")
    synced(account)
    clock.set(first.start + 50 * DAY)
    accept_risk(findings=[weak_finding(account, accepted_id)], reason="legacy system", by=officer,
                until=(second.end + 300 * DAY).date())
    clock.set(first.start + 55 * DAY)
    set_password(fake_org, reseen_id, "a long and unguessable passphrase one", "FANTASTIC")
    synced(account)
    resolved_in_q1 = weak_finding(account, reseen_id).resolved_at
    assert resolved_in_q1 is not None and first.start < resolved_in_q1 < first.end

    before = reports(first, now=second.start + DAY)
    figures_before = Evidence(period=first, accounts=[account], now=second.start + DAY).kind_status[WEAK]

    # "May": the accepted one is fixed; the resolved one is weak again (re-seen: resolved_at cleared).
    clock.set(second.start + 10 * DAY)
    set_password(fake_org, accepted_id, "a long and unguessable passphrase two", "FANTASTIC")
    set_password(fake_org, reseen_id, "Zq-reseen-2", "TERRIBLE")
    synced(account)
    accepted, reseen = weak_finding(account, accepted_id), weak_finding(account, reseen_id)
    # The rows really were rewritten: today the accepted one is resolved, the other open and never resolved.
    assert accepted.status == Finding.Status.RESOLVED and accepted.resolved_at is not None
    assert reseen.status == Finding.Status.OPEN and reseen.resolved_at is None

    after = reports(first, now=second.start + 30 * DAY)
    for kind in ("soc2", "iso27001"):
        assert content(after[kind]) == content(before[kind]), kind

    ev = Evidence(period=first, accounts=[account], now=second.start + 30 * DAY)
    assert ev.kind_status[WEAK] == figures_before
    assert figures_before["accepted"] >= 1 and figures_before["resolved"] >= 1
    rows = violation_rows(after["soc2"])
    # At Q1's end: accepted (not open), and resolved at its February resolution.
    assert row_of(rows, accepted.title)[5] == "Accepted risk"
    reseen_row = row_of(rows, reseen.title)
    assert reseen_row[5] == "Resolved" and reseen_row[6] == resolved_in_q1
    assert not ev.findings().filter(ev.open_filter(), pk__in=[accepted.pk, reseen.pk]).exists()

    # The quarter they changed in counts them as they are now, as the dashboard does (decoy).
    current = Evidence(period=second, accounts=[account], now=timezone.now())
    dashboard = dict(Finding.objects.filter(account=account, status=Finding.Status.OPEN).values_list("kind")
                     .annotate(n=Count("pk")).order_by())
    assert current.open_by_kind == dashboard
    assert current.kind_status[WEAK]["accepted"] == Finding.objects.filter(
        account=account, kind=WEAK, status=Finding.Status.ACCEPTED).count()
    current_rows = {r[2]: r for r in violation_rows(reports(second, now=timezone.now())["soc2"])}
    assert current_rows[accepted.title][5] == "Resolved" and current_rows[reseen.title][5] == "Open"
    # Resolved in Q2 (the accepted one) and in Q1 (the re-seen one) both counted in their quarters.
    assert current.kind_status[WEAK]["resolved"] >= 1
    metrics = {m["period"]: m for m in current.quarter_metrics()}
    assert metrics[first.label]["resolved"] == ev.quarter_metrics()[-1]["resolved"]


# --- spans written by the engine and the acceptance -----------------------------------------------


@pytest.fixture
def weak_item() -> tuple[Account, Vault, Item]:
    account = make_account(name="acme")
    vault = make_vault(account=account, name="Payments Production", classification=Vault.Classification.PRODUCTION)
    item = make_item(vault=vault, category="LOGIN", title="Payments Production admin")
    make_secret(item=item, purpose="PASSWORD", label="password", zxcvbn_score=1)
    return account, vault, item


def spans(finding: Finding) -> list[tuple[str, str, datetime.datetime, datetime.datetime | None]]:
    return list(FindingStatusSpan.objects.filter(finding=finding).order_by("valid_from", "pk")
                .values_list("status", "severity", "valid_from", "valid_to"))


def test_the_engine_opens_a_span_for_every_new_finding(weak_item: tuple[Account, Vault, Item]) -> None:
    account, _, _ = weak_item
    t0 = timezone.now()
    compute_findings(account=account, now=t0)

    findings = list(Finding.objects.filter(account=account))
    assert findings
    for finding in findings:
        assert spans(finding) == [(Finding.Status.OPEN, finding.severity, t0, None)]


def test_an_unchanged_engine_run_writes_no_span(weak_item: tuple[Account, Vault, Item]) -> None:
    account, _, _ = weak_item
    t0 = timezone.now()
    compute_findings(account=account, now=t0)
    before = list(FindingStatusSpan.objects.order_by("pk").values_list("pk", "valid_to"))

    compute_findings(account=account, now=t0 + DAY)

    assert list(FindingStatusSpan.objects.order_by("pk").values_list("pk", "valid_to")) == before


def test_resolving_and_reseeing_a_finding_writes_a_span_each(weak_item: tuple[Account, Vault, Item]) -> None:
    account, _, item = weak_item
    t0 = timezone.now()
    compute_findings(account=account, now=t0)
    finding = Finding.objects.get(account=account, kind=WEAK)
    field = item.secret_fields.get()

    field.zxcvbn_score = 4
    field.save()
    compute_findings(account=account, now=t0 + DAY)
    field.zxcvbn_score = 1
    field.save()
    compute_findings(account=account, now=t0 + 2 * DAY)

    high = finding.severity
    assert spans(finding) == [
        (Finding.Status.OPEN, high, t0, t0 + DAY),
        (Finding.Status.RESOLVED, high, t0 + DAY, t0 + 2 * DAY),
        (Finding.Status.OPEN, high, t0 + 2 * DAY, None),
    ]


def test_a_severity_change_closes_the_span_and_rotation_spans_keep_their_details(
        weak_item: tuple[Account, Vault, Item]) -> None:
    account, vault, _ = weak_item
    database = make_item(vault=vault, category="DATABASE", title="Payments Production database")
    make_secret(item=database, changed_at=timezone.now() - 400 * DAY)
    t0 = timezone.now()
    compute_findings(account=account, now=t0)
    finding = Finding.objects.get(account=account, kind=Finding.Kind.OVERDUE_ROTATION, item=database)
    vault.classification = Vault.Classification.NON_PRODUCTION  # a longer period, a lower severity
    vault.save()

    compute_findings(account=account, now=t0 + DAY)

    finding.refresh_from_db()
    [(_, old, _, closed), (status, new, opened, _)] = spans(finding)
    assert old != new == finding.severity and status == Finding.Status.OPEN and closed == opened == t0 + DAY
    first, second = FindingStatusSpan.objects.filter(finding=finding).order_by("valid_from")
    assert first.details is not None and first.details["period_days"] != second.details["period_days"]
    # Other kinds do not carry their details into the history.
    assert FindingStatusSpan.objects.get(finding__kind=WEAK, finding__account=account).details is None


def test_accepting_and_reopening_write_spans_and_repeating_them_writes_none(
        weak_item: tuple[Account, Vault, Item], django_user_model: type[User]) -> None:
    account, _, _ = weak_item
    compute_findings(account=account)
    finding = Finding.objects.get(account=account, kind=WEAK)
    officer = django_user_model.objects.create_user("olga")
    until = (timezone.now() + 30 * DAY).date()

    accept_risk(findings=[finding], reason="legacy", until=until, by=officer)
    accept_risk(findings=[Finding.objects.get(pk=finding.pk)], reason="legacy", until=until, by=officer)
    assert [s[0] for s in spans(finding)] == [Finding.Status.OPEN, Finding.Status.ACCEPTED]
    reopen(findings=[Finding.objects.get(pk=finding.pk)], by=officer)
    reopen(findings=[Finding.objects.get(pk=finding.pk)], by=officer)

    statuses = spans(finding)
    assert [s[0] for s in statuses] == [Finding.Status.OPEN, Finding.Status.ACCEPTED, Finding.Status.OPEN]
    assert [s[3] is None for s in statuses] == [False, False, True]
    assert statuses[0][3] == statuses[1][2] and statuses[1][3] == statuses[2][2]


def test_an_acceptance_that_expires_reopens_in_the_history(
        weak_item: tuple[Account, Vault, Item], django_user_model: type[User]) -> None:
    account, _, _ = weak_item
    t0 = timezone.now()
    compute_findings(account=account, now=t0)
    finding = Finding.objects.get(account=account, kind=WEAK)
    accept_risk(findings=[finding], reason="legacy", until=(t0 + DAY).date(), by=django_user_model.objects.create_user("o"))

    compute_findings(account=account, now=t0 + 10 * DAY)

    assert [(s[0], s[3] is None) for s in spans(finding)] == [
        (Finding.Status.OPEN, False), (Finding.Status.ACCEPTED, False), (Finding.Status.OPEN, True)]
    assert spans(finding)[-1][2] == t0 + 10 * DAY


# --- the migration's backfill from what the rows still say -----------------------------------------


def backfilled(**row: Any) -> list[tuple[str, datetime.datetime, datetime.datetime | None]]:
    migration = importlib.import_module("vaults.findings.migrations.0006_finding_status_spans")
    fields = {"pk": 1, "account_id": 1, "kind": WEAK, "severity": "high", "details": {}, "resolved_at": None,
              "accepted_at": None, "accepted_until": None, **row}
    return [(s.status, s.valid_from, s.valid_to)
            for s in migration._spans(SimpleNamespace(**fields), FindingStatusSpan)]


def test_the_backfill_rebuilds_what_the_rows_still_say() -> None:
    t = datetime.datetime(2026, 2, 1, tzinfo=datetime.UTC)
    assert backfilled(first_seen=t, status="open") == [("open", t, None)]
    assert backfilled(first_seen=t, status="accepted", accepted_at=t + DAY) == [("open", t, t + DAY),
                                                                                 ("accepted", t + DAY, None)]
    assert backfilled(first_seen=t, status="resolved", accepted_at=t + DAY, resolved_at=t + 5 * DAY) == [
        ("open", t, t + DAY), ("accepted", t + DAY, t + 5 * DAY), ("resolved", t + 5 * DAY, None)]
    # Expired: accepted until the day after `accepted_until` began. Reopened by hand (until cleared): open throughout.
    expired = backfilled(first_seen=t, status="open", accepted_at=t + DAY, accepted_until=(t + 3 * DAY).date())
    assert expired == [("open", t, t + DAY), ("accepted", t + DAY, t + 4 * DAY), ("open", t + 4 * DAY, None)]
    assert backfilled(first_seen=t, status="open", accepted_at=t + DAY) == [("open", t, None)]


def test_a_closed_periods_rotation_age_is_counted_to_its_end_not_read_from_the_last_run() -> None:
    q1 = Period(start=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC), end=datetime.datetime(2026, 4, 1, tzinfo=datetime.UTC),
                label="2026Q1")
    details = {"changed_at": "2025-12-01", "age_days": 300, "period_days": 90}
    closed = Evidence(period=q1, accounts=[], now=datetime.datetime(2026, 9, 1, tzinfo=datetime.UTC))
    assert closed.rotation_age(details) == 31 + 31 + 28 + 31  # 1 December to 1 April
    # Decoy: the current period shows the age its latest engine run computed, as the dashboard does.
    current = Evidence(period=q1, accounts=[], now=datetime.datetime(2026, 2, 1, tzinfo=datetime.UTC))
    assert current.rotation_age(details) == 300
