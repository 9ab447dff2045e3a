from __future__ import annotations

import datetime

from tests.vaults.factories import make_item, make_sync_run
from vaults.findings.engine import compute_findings
from vaults.findings.models import Finding, HealthSnapshot


def _unclear(vault):
    return make_item(vault=vault, title="Password")


def test_first_seen_is_preserved_and_last_seen_advances_across_runs(account, prod_vault, now) -> None:
    _unclear(prod_vault)
    compute_findings(account=account, now=now)
    later = now + datetime.timedelta(hours=6)

    compute_findings(account=account, now=later)

    finding = Finding.objects.select_related("account").get(kind=Finding.Kind.UNCLEAR_NAME)
    assert finding.first_seen == now and finding.last_seen_at == later


def test_an_unchanged_finding_is_not_rewritten_by_a_run(account, prod_vault, now) -> None:
    _unclear(prod_vault)
    compute_findings(account=account, now=now)

    compute_findings(account=account, now=now + datetime.timedelta(hours=6))

    # The stored column keeps the first write; the account's run time says it was seen again.
    finding = Finding.objects.select_related("account").get()
    assert finding.last_seen == now and finding.last_seen_at == now + datetime.timedelta(hours=6)


def test_a_resolved_finding_was_last_seen_by_the_run_before_it_went(account, prod_vault, now) -> None:
    item = _unclear(prod_vault)
    compute_findings(account=account, now=now)
    compute_findings(account=account, now=now + datetime.timedelta(hours=1))
    item.title = "Stripe Production API Key"
    item.save()

    compute_findings(account=account, now=now + datetime.timedelta(hours=2))

    finding = Finding.objects.select_related("account").get(kind=Finding.Kind.UNCLEAR_NAME)
    assert finding.status == Finding.Status.RESOLVED
    assert finding.last_seen_at == now + datetime.timedelta(hours=1)
    assert finding.resolved_at == now + datetime.timedelta(hours=2)


def test_a_resolved_finding_that_comes_back_reopens_with_its_first_seen(account, prod_vault, now) -> None:
    item = _unclear(prod_vault)
    compute_findings(account=account, now=now)
    item.title = "Stripe Production API Key"
    item.save()
    compute_findings(account=account, now=now + datetime.timedelta(hours=1))
    item.title = "Password"
    item.save()

    summary = compute_findings(account=account, now=now + datetime.timedelta(hours=2))

    finding = Finding.objects.get(kind=Finding.Kind.UNCLEAR_NAME)
    assert finding.status == Finding.Status.OPEN and finding.resolved_at is None
    assert finding.first_seen == now and summary.reopened == 1


def test_an_accepted_risk_stays_accepted_while_present_and_in_date(account, prod_vault, now) -> None:
    _unclear(prod_vault)
    compute_findings(account=account, now=now)
    Finding.objects.update(status=Finding.Status.ACCEPTED, accepted_until=now.date() + datetime.timedelta(days=10))

    compute_findings(account=account, now=now + datetime.timedelta(days=10))

    assert Finding.objects.get().status == Finding.Status.ACCEPTED


def test_an_accepted_risk_whose_date_passed_is_open_again(account, prod_vault, now) -> None:
    _unclear(prod_vault)
    compute_findings(account=account, now=now)
    Finding.objects.update(status=Finding.Status.ACCEPTED, accepted_until=now.date() + datetime.timedelta(days=10))

    summary = compute_findings(account=account, now=now + datetime.timedelta(days=11))

    assert Finding.objects.get().status == Finding.Status.OPEN
    assert summary.acceptances_expired == 1


def test_an_accepted_finding_that_disappears_is_resolved(account, prod_vault, now) -> None:
    item = _unclear(prod_vault)
    compute_findings(account=account, now=now)
    Finding.objects.update(status=Finding.Status.ACCEPTED, accepted_until=now.date() + datetime.timedelta(days=10))
    item.archived = True
    item.save()

    compute_findings(account=account, now=now)

    assert Finding.objects.get().status == Finding.Status.RESOLVED


def test_removed_items_findings_resolve(account, prod_vault, now) -> None:
    item = _unclear(prod_vault)
    compute_findings(account=account, now=now)
    item.removed_at = now
    item.save()

    summary = compute_findings(account=account, now=now)

    assert summary.resolved >= 1
    assert not Finding.objects.filter(status=Finding.Status.OPEN).exists()


def test_a_run_writes_an_organisation_snapshot_and_one_per_vault(account, prod_vault, dev_vault, now) -> None:
    run = make_sync_run(account=account)
    _unclear(prod_vault)

    compute_findings(account=account, now=now, sync_run=run)

    snapshots = HealthSnapshot.objects.filter(account=account, taken_at=now, sync_run=run)
    assert {s.vault_id for s in snapshots} == {None, prod_vault.pk, dev_vault.pk}
    assert snapshots.get(vault=dev_vault).score == 100
    assert snapshots.get(vault=prod_vault).counts == {"unclear_name": 1}


def test_other_accounts_findings_are_untouched(account, prod_vault, now) -> None:
    from tests.vaults.factories import make_account, make_vault

    other = make_account()
    make_item(vault=make_vault(account=other), title="Password")
    compute_findings(account=other, now=now)

    compute_findings(account=account, now=now)

    assert Finding.objects.filter(account=other, status=Finding.Status.OPEN).count() == 1


def test_the_summary_counts_present_and_open_findings_per_kind_over_every_vault(
    account, prod_vault, dev_vault, now
) -> None:
    from tests.vaults.factories import make_account, make_vault

    _unclear(prod_vault)
    _unclear(dev_vault)  # same kind, another vault: counted with the first
    accepted = make_item(vault=dev_vault, title="Login")
    renamed = make_item(vault=prod_vault, title="Secret")
    other = make_account()
    make_item(vault=make_vault(account=other), title="Password")  # another account's: not counted
    compute_findings(account=other, now=now)
    compute_findings(account=account, now=now)
    Finding.objects.filter(account=account, item=accepted).update(
        status=Finding.Status.ACCEPTED, accepted_until=now.date() + datetime.timedelta(days=10)
    )
    renamed.title = "Stripe Production API Key"  # its finding resolves: present no more
    renamed.save()

    summary = compute_findings(account=account, now=now + datetime.timedelta(hours=1))

    assert summary.present[Finding.Kind.UNCLEAR_NAME] == 3
    assert summary.open[Finding.Kind.UNCLEAR_NAME] == 2
    assert summary.resolved == 1
