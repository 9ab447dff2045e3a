"""The findings run's counts (vaults/findings/counts.py): after every run, decision and rerun they
equal a live count of the findings, and the pages read them instead of counting rows."""

from __future__ import annotations

import datetime
import importlib
from collections import Counter
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.urls import reverse
from django.utils import timezone

from tests.vaults.factories import make_account, make_finding, make_item, make_secret, make_vault
from vaults import inventory
from vaults.findings import acceptance, counts, keyset
from vaults.findings.engine import compute_findings
from vaults.findings.models import Finding, FindingCount, HealthSnapshot
from vaults.models import Account, Item, Vault
from vaults.models.inventory import ACTIVE_ITEMS

LIST = reverse("findings:list")
OPEN, ACCEPTED, RESOLVED = Finding.Status.OPEN, Finding.Status.ACCEPTED, Finding.Status.RESOLVED
Key = tuple[int, int | None, str, str, str]


def weak_item(vault: Vault, title: str, **fields: Any) -> Item:
    item = make_item(vault=vault, title=title, category="LOGIN", **fields)
    make_secret(item=item, purpose="PASSWORD", label="password", zxcvbn_score=1, length=6, strength="WEAK")
    return item


def live() -> Counter[Key]:
    """Open and accepted findings counted from the findings themselves."""
    rows = Finding.objects.filter(status__in=[OPEN, ACCEPTED]).values_list("account_id", "vault_id", "kind", "severity", "status")
    return Counter(rows)


def kept() -> Counter[Key]:
    """The count rows summed per group, groups summing to zero left out."""
    summed: Counter[Key] = Counter()
    for row in FindingCount.objects.values_list("account_id", "vault_id", "kind", "severity", "status", "n"):
        summed[row[:5]] += row[5]
    return Counter({key: n for key, n in summed.items() if n})


@pytest.fixture
def organisation(account: Account, prod_vault: Vault, dev_vault: Vault, now: datetime.datetime) -> dict[str, Any]:
    """Findings in two vaults and in another account, a secret shared across vaults (a group
    finding), and decoys that must not count: an archived and a removed item with weak secrets."""
    for n in range(3):
        weak_item(prod_vault, f"Stripe Production Login {n}")
    weak_item(dev_vault, "Stripe Development Login 0")
    make_item(vault=prod_vault, title="Password")  # unclear name
    for vault in (prod_vault, dev_vault):
        make_secret(item=make_item(vault=vault, title=f"Postgres {vault.name} Database"), fingerprint="ab" * 32)
    weak_item(prod_vault, "Stripe Production Login archived", archived=True)
    weak_item(prod_vault, "Stripe Production Login removed", removed_at=now - datetime.timedelta(days=1))
    other = make_account(name="other")
    other_vault = make_vault(account=other, name="Other Production", classification=Vault.Classification.PRODUCTION)
    for n in range(2):
        weak_item(other_vault, f"Other Production Login {n}")
    compute_findings(account=account, now=now)
    compute_findings(account=other, now=now)
    return {"other": other, "other_vault": other_vault}


def test_counts_equal_a_live_count_after_a_run(organisation, prod_vault) -> None:
    assert kept() == live()
    assert sum(n for key, n in kept().items() if key[1] == prod_vault.pk and key[2] == "weak") == 3  # not the archived or removed


def test_accepting_and_reopening_move_the_counts_with_the_findings(organisation, account, prod_vault, officer) -> None:
    weak = list(Finding.objects.filter(account=account, kind="weak", vault=prod_vault).order_by("pk"))
    until = timezone.localdate() + datetime.timedelta(days=30)

    acceptance.accept_risk(findings=weak[:2], reason="legacy", until=until, by=officer)
    assert kept() == live()
    assert counts.list_total(kind="weak", status=ACCEPTED) == 2

    acceptance.reopen(findings=weak[:1], by=officer)
    acceptance.reopen(findings=weak[:1], by=officer)  # a repeat changes nothing, counts included
    assert kept() == live()
    assert counts.list_total(kind="weak", status=ACCEPTED) == 1


def test_a_decision_on_stale_copies_counts_the_findings_as_stored(organisation, account, officer) -> None:
    finding = Finding.objects.filter(account=account, kind="weak").first()
    assert finding is not None
    stale = Finding.objects.get(pk=finding.pk)
    Finding.objects.filter(pk=finding.pk).update(status=RESOLVED)  # a run resolved it meanwhile
    FindingCount.objects.create(account=account, vault=finding.vault, kind="weak", severity=finding.severity, status=OPEN, n=-1)

    changed = acceptance.accept_risk(findings=[stale], reason="r", until=timezone.localdate() + datetime.timedelta(days=3), by=officer)

    assert changed == [] and kept() == live()


def test_a_second_run_that_resolves_findings_recounts_them(organisation, account, prod_vault, now) -> None:
    Item.objects.filter(vault=prod_vault, title__startswith="Stripe Production Login").update(archived=True)
    compute_findings(account=account, now=now + datetime.timedelta(hours=1))

    assert Finding.objects.filter(account=account, status=RESOLVED, kind="weak").count() == 3
    assert kept() == live()
    assert not [key for key in kept() if key[1] == prod_vault.pk and key[2] == "weak"]


def test_an_expired_acceptance_reopened_by_the_run_counts_as_open(organisation, account, officer, now) -> None:
    finding = Finding.objects.filter(account=account, kind="weak").first()
    assert finding is not None
    acceptance.accept_risk(findings=[finding], reason="r", until=timezone.localdate() + datetime.timedelta(days=1), by=officer)

    compute_findings(account=account, now=now + datetime.timedelta(days=5))

    assert Finding.objects.get(pk=finding.pk).status == OPEN
    assert kept() == live()


def test_the_dashboard_counts_equal_the_live_count_per_kind(organisation) -> None:
    by_kind = Counter(Finding.objects.filter(status=OPEN).values_list("kind", flat=True))

    assert {row.kind: row.open_now for row in inventory.counts_by_kind() if row.open_now} == dict(by_kind)


def test_the_vault_list_shows_live_item_and_finding_counts_per_vault(organisation, account, prod_vault, officer) -> None:
    accepted = Finding.objects.filter(vault=prod_vault, kind="weak")[:1]  # a decoy: accepted is not open
    acceptance.accept_risk(findings=accepted, reason="r", until=timezone.localdate() + datetime.timedelta(days=3), by=officer)
    rows = list(inventory.vault_rows())

    assert len(rows) == 3  # two vaults of acme and the other account's
    for vault in rows:
        assert vault.active_items == vault.items.filter(ACTIVE_ITEMS).count()  # type: ignore[attr-defined]
        assert vault.open_findings == Finding.objects.filter(vault=vault, status=OPEN).count()  # type: ignore[attr-defined]
    most = list(inventory.vault_rows().order_by("-open_findings", "name"))
    assert most[0].name == "Payments Production"


def test_the_vault_page_says_the_live_item_count(organisation, prod_vault) -> None:
    assert inventory.vault_summary(prod_vault)["item_count"] == prod_vault.items.filter(ACTIVE_ITEMS).count() == 5


def test_pages_read_the_kept_counts_not_the_findings(organisation, account, prod_vault) -> None:
    """A status written behind the counts' back (no run, no decision) does not show: proof that
    no page counts findings on request. Only the engine and acceptance.py write statuses."""
    in_vault = Finding.objects.filter(vault=prod_vault, status=OPEN).count()
    weak = Finding.objects.filter(kind="weak", status=OPEN).count()
    Finding.objects.filter(account=account, kind="weak").update(status=RESOLVED)
    Item.objects.filter(vault=prod_vault).update(archived=True)

    row = inventory.vault_rows().get(pk=prod_vault.pk)
    assert (row.open_findings, row.active_items) == (in_vault, 5)  # type: ignore[attr-defined]
    assert {r.kind: r.open_now for r in inventory.counts_by_kind()}["weak"] == weak == 6
    assert counts.list_total(kind="weak") == 6


def test_the_unfiltered_list_total_is_exact_beyond_the_count_cap(organisation, client_for, team_lead, monkeypatch) -> None:
    monkeypatch.setattr(keyset, "COUNT_CAP", 2)
    client = client_for(team_lead)
    n_open = Finding.objects.filter(status=OPEN).count()
    assert n_open > 2

    exact = client.get(LIST).content.decode()
    weak = client.get(LIST, {"kind": "weak"}).content.decode()
    capped = client.get(LIST, {"status": "all"}).content.decode()  # the counts hold no resolved findings

    assert f"All {n_open} findings matching this filter" in exact
    assert "All 6 findings matching this filter" in weak
    assert "more than 2" in capped


@pytest.mark.parametrize("filters", [{"q": "stripe"}, {"status": "resolved"}, {"status": "all"}, {"vault": "VAULT"}])
def test_filters_the_counts_cannot_answer_are_counted_by_the_list(organisation, prod_vault, filters) -> None:
    filters = {k: prod_vault if v == "VAULT" else v for k, v in filters.items()}
    assert counts.list_total(**filters) is None


def test_findings_of_an_account_never_computed_are_counted_live(db) -> None:
    fresh = make_account(name="fixtures")
    vault = make_vault(account=fresh, name="Fixture vault")
    make_finding(account=fresh, vault=vault, kind=Finding.Kind.WEAK)
    make_finding(account=fresh, vault=vault, kind=Finding.Kind.WEAK, status=RESOLVED)
    make_item(vault=vault)

    row = inventory.vault_rows().get(pk=vault.pk)
    assert (row.open_findings, row.active_items) == (1, 1)  # type: ignore[attr-defined]
    assert {r.kind: r.open_now for r in inventory.counts_by_kind()}["weak"] == 1
    assert counts.list_total() is None  # the list counts them itself, capped


def test_the_snapshots_score_the_counts_the_run_wrote(organisation, account, prod_vault) -> None:
    snapshot = HealthSnapshot.objects.get(account=account, vault=prod_vault)
    assert snapshot.counts["weak"] == sum(n for key, n in kept().items() if key[1] == prod_vault.pk and key[2] == "weak")
    assert snapshot.items == 5


def test_the_migration_counts_the_findings_already_stored(organisation) -> None:
    migration = importlib.import_module("vaults.findings.migrations.0011_finding_counts")
    FindingCount.objects.all().delete()

    migration.count_present_findings(django_apps, None)

    assert kept() == live()


@pytest.fixture
def officer(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("olga")


def test_a_rerun_rewrites_only_the_groups_that_changed_and_compacts_decisions(
    organisation, account, prod_vault, dev_vault, officer, now
) -> None:
    weak = Finding.objects.filter(account=account, kind="weak", vault=prod_vault).order_by("pk").first()
    assert weak is not None
    acceptance.accept_risk(findings=[weak], reason="legacy", until=now.date() + datetime.timedelta(days=30), by=officer)
    dev_rows = set(FindingCount.objects.filter(account=account, vault=dev_vault).values_list("pk", flat=True))
    assert dev_rows
    Item.objects.filter(vault=prod_vault, title="Password").update(title="Stripe Production API Key")  # resolves one

    compute_findings(account=account, now=now + datetime.timedelta(hours=1))

    assert kept() == live()
    # One row per group again: the decision's -1/+1 rows became the groups they add up to.
    groups = Counter(FindingCount.objects.filter(account=account).values_list("vault_id", "kind", "severity", "status"))
    assert set(groups.values()) == {1}
    assert any(key[0] == prod_vault.pk and key[1] == "weak" and key[3] == ACCEPTED for key in groups)
    # The other vault's groups did not change: their rows are the same rows.
    assert set(FindingCount.objects.filter(account=account, vault=dev_vault).values_list("pk", flat=True)) == dev_rows
    assert not FindingCount.objects.filter(account=account, vault=prod_vault, kind="unclear_name").exists()
