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

from openclaw_web import keyset
from tests.vaults.factories import make_account, make_finding, make_item, make_op_user, make_secret, make_vault
from vaults import inventory
from vaults.findings import acceptance, counts
from vaults.findings.engine import compute_findings
from vaults.findings.health import take_snapshots
from vaults.findings.models import Finding, FindingCount, HealthSnapshot
from vaults.findings.search import filtered_findings
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


def kept(*, spanning: bool = False) -> Counter[Key]:
    """The count rows summed per group, groups summing to zero left out: the rows of the
    findings' own vaults, or (`spanning`) those of vault-less findings per vault they name."""
    summed: Counter[Key] = Counter()
    rows = FindingCount.objects.filter(spanning=spanning)
    for row in rows.values_list("account_id", "vault_id", "kind", "severity", "status", "n"):
        summed[row[:5]] += row[5]
    return Counter({key: n for key, n in summed.items() if n})


def live_spanning() -> Counter[Key]:
    """Open and accepted findings without a vault, counted once per vault their details list."""
    counted: Counter[Key] = Counter()
    vault_less = Finding.objects.filter(status__in=[OPEN, ACCEPTED], vault__isnull=True)
    for account_id, kind, severity, status, details in vault_less.values_list(
        "account_id", "kind", "severity", "status", "details"
    ):
        for vault_id in details["vault_ids"]:
            counted[(account_id, vault_id, kind, severity, status)] += 1
    return counted


def open_in(vault: Vault) -> set[int]:
    """The open findings a vault's score counts, from the findings themselves."""
    own = set(Finding.objects.filter(vault=vault, status=OPEN).values_list("pk", flat=True))
    vault_less = Finding.objects.filter(account=vault.account, vault__isnull=True, status=OPEN)
    return own | {pk for pk, details in vault_less.values_list("pk", "details") if vault.pk in details["vault_ids"]}


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
    assert kept(spanning=True) == live_spanning()
    assert live_spanning()  # the secret stored in both vaults: a finding without a vault of its own
    assert sum(n for key, n in kept().items() if key[1] == prod_vault.pk and key[2] == "weak") == 3  # not the archived or removed


def test_the_run_summary_counts_each_finding_across_vaults_once(organisation, account, now) -> None:
    summary = compute_findings(account=account, now=now + datetime.timedelta(hours=1))

    by_kind = Counter(Finding.objects.filter(account=account, status=OPEN).values_list("kind", flat=True))
    assert summary.open == dict(by_kind) and by_kind["duplicate"] == 1


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


def test_a_decision_on_a_finding_across_vaults_moves_it_in_each_vault_and_once_in_totals(
    organisation, account, prod_vault, dev_vault, officer
) -> None:
    group = Finding.objects.get(account=account, kind="duplicate")
    assert group.vault_id is None and sorted(group.details["vault_ids"]) == sorted([prod_vault.pk, dev_vault.pk])
    before = {row.pk: row.open_findings for row in inventory.vault_rows()}  # type: ignore[attr-defined]
    until = timezone.localdate() + datetime.timedelta(days=30)

    acceptance.accept_risk(findings=[group], reason="legacy", until=until, by=officer)

    after = {row.pk: row.open_findings for row in inventory.vault_rows()}  # type: ignore[attr-defined]
    assert {pk: before[pk] - after[pk] for pk in before} == {prod_vault.pk: 1, dev_vault.pk: 1, organisation["other_vault"].pk: 0}
    assert kept() == live() and kept(spanning=True) == live_spanning()
    assert counts.list_total(kind="duplicate", status=ACCEPTED) == 1  # once, not once per vault
    assert "duplicate" not in {r.kind for r in inventory.counts_by_kind() if r.open_now}

    acceptance.reopen(findings=[group], by=officer)
    assert {row.pk: row.open_findings for row in inventory.vault_rows()} == before  # type: ignore[attr-defined]
    acceptance.accept_risk(findings=[group], reason="legacy", until=until, by=officer)

    compute_findings(account=account, now=timezone.now())  # compacts the decisions' -1/+1 rows

    assert kept() == live() and kept(spanning=True) == live_spanning()
    spanning = Counter(FindingCount.objects.filter(account=account, spanning=True).values_list("vault_id", "kind", "status"))
    assert set(spanning.values()) == {1} and spanning[(prod_vault.pk, "duplicate", ACCEPTED)] == 1


def test_a_group_that_reaches_a_third_vault_counts_there_after_the_run(organisation, account, prod_vault, now) -> None:
    third = make_vault(account=account, name="Payments Staging", classification=Vault.Classification.NON_PRODUCTION)
    make_secret(item=make_item(vault=third, title="Postgres Payments Staging Database"), fingerprint="ab" * 32)
    before = inventory.vault_rows().get(pk=third.pk).open_findings  # type: ignore[attr-defined]

    compute_findings(account=account, now=now + datetime.timedelta(hours=1))

    group = Finding.objects.get(account=account, kind="duplicate", status=OPEN)
    assert third.pk in group.details["vault_ids"]
    assert kept() == live() and kept(spanning=True) == live_spanning()
    assert inventory.vault_rows().get(pk=third.pk).open_findings == len(open_in(third)) > before  # type: ignore[attr-defined]


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


def test_the_vault_list_counts_the_findings_each_vault_is_scored_on(organisation, account, prod_vault, dev_vault) -> None:
    """A vault's count holds what its score counts: its own findings and the group across vaults
    that names it, so no vault says "0 open findings" beside a score that lost points."""
    scored = {s.vault_id: sum(s.counts.values()) for s in HealthSnapshot.objects.filter(vault__isnull=False)}
    rows = list(inventory.vault_rows())

    assert len(rows) == 3  # two vaults of acme and the other account's
    for vault in rows:
        assert vault.active_items == vault.items.filter(ACTIVE_ITEMS).count()  # type: ignore[attr-defined]
        assert vault.open_findings == len(open_in(vault)) == scored[vault.pk]  # type: ignore[attr-defined]
    for vault in (prod_vault, dev_vault):  # the shared secret's findings count in both
        assert len(open_in(vault)) > Finding.objects.filter(vault=vault, status=OPEN).count()
    most = list(inventory.vault_rows().order_by("-open_findings", "name"))
    assert most[0].name == "Payments Production"


def test_an_accepted_finding_leaves_the_vault_list_count(organisation, account, prod_vault, officer) -> None:
    before = inventory.vault_rows().get(pk=prod_vault.pk).open_findings  # type: ignore[attr-defined]
    accepted = Finding.objects.filter(vault=prod_vault, kind="weak")[:1]
    acceptance.accept_risk(findings=accepted, reason="r", until=timezone.localdate() + datetime.timedelta(days=3), by=officer)

    row = inventory.vault_rows().get(pk=prod_vault.pk)
    assert row.open_findings == before - 1 == len(open_in(prod_vault))  # type: ignore[attr-defined]


def test_findings_about_a_person_count_in_the_vaults_they_name_and_once_in_totals(
    account, prod_vault, dev_vault, now
) -> None:
    """Decoys: a resolved one, one whose details are malformed, and an item finding whose details
    name a second vault (a finding with a vault of its own counts there only)."""
    dana = make_op_user(account=account, name="Dana")
    over = Finding.Kind.OVER_PERMISSIONED
    named = make_finding(account=account, kind=over, op_user=dana, details={"vault_ids": [prod_vault.pk, dev_vault.pk]})
    make_finding(account=account, kind=over, op_user=make_op_user(account=account, name="Eve"), status=RESOLVED,
                 details={"vault_ids": [prod_vault.pk]})  # fmt: skip
    make_finding(account=account, kind=over, op_user=make_op_user(account=account, name="Finn"),
                 details={"vault_ids": "Payments Production"})  # fmt: skip
    own = make_finding(account=account, kind="weak", vault=prod_vault, details={"vault_ids": [prod_vault.pk, dev_vault.pk]})
    Account.objects.filter(pk=account.pk).update(findings_computed_at=now)

    take_snapshots(account=account, now=now)

    rows = {row.pk: row.open_findings for row in inventory.vault_rows()}  # type: ignore[attr-defined]
    assert rows == {prod_vault.pk: 2, dev_vault.pk: 1}
    scored = {s.vault_id: s.counts for s in HealthSnapshot.objects.filter(account=account)}
    assert scored[prod_vault.pk] == {"weak": 1, over: 1} and scored[dev_vault.pk] == {over: 1}
    assert scored[None] == {"weak": 1, over: 2}  # the malformed one counts for the organisation only
    assert {r.kind: r.open_now for r in inventory.counts_by_kind() if r.open_now} == {"weak": 1, over: 2}
    # The vault page and the findings list filtered by the vault show the same findings.
    assert {f.pk for f in inventory.open_findings(vault=dev_vault)} == {named.pk}
    assert {f.pk for f in inventory.open_findings(vault=prod_vault)} == {named.pk, own.pk}
    assert set(filtered_findings(vault=dev_vault).values_list("pk", flat=True)) == {named.pk}
    assert filtered_findings(vault=prod_vault, status="all").count() == 3  # the resolved one too


def test_the_vault_page_says_the_live_item_count(organisation, prod_vault) -> None:
    assert inventory.vault_summary(prod_vault)["item_count"] == prod_vault.items.filter(ACTIVE_ITEMS).count() == 5


def test_pages_read_the_kept_counts_not_the_findings(organisation, account, prod_vault) -> None:
    """A status written behind the counts' back (no run, no decision) does not show: proof that
    no page counts findings on request. Only the engine and acceptance.py write statuses."""
    in_vault = len(open_in(prod_vault))
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


def test_the_migration_counts_the_findings_across_vaults_already_stored(organisation) -> None:
    migration = importlib.import_module("vaults.findings.migrations.0016_finding_count_spanning")
    FindingCount.objects.filter(spanning=True).delete()

    migration.count_spanning_findings(django_apps, None)

    assert kept(spanning=True) == live_spanning() != Counter()
    migration.forget_spanning_findings(django_apps, None)  # reversed: no row left to read as a vault's own
    assert kept(spanning=True) == Counter() and kept() == live()


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
