"""The demo organisation, synced through the fake `op` and its Events API, shows exactly the
findings its generator planted: 12 duplicate groups (true copies), 4 reused secrets, 34 unclear
names, 6 over-permissioned users (plus 2 people in a pending state with a low finding of their own),
8 orphaned items, 3 weak passwords, 47 items missing metadata — and the very same items."""

from __future__ import annotations

import pytest

from vaults import sync
from vaults.findings.engine import compute_findings
from vaults.findings.models import Finding
from vaults.models import SyncRun

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

SEEDED = {
    "duplicate": 12, "reused_secret": 4, "unclear_name": 34, "over_permissioned": 6, "orphaned": 8, "weak": 3,
    "missing_metadata": 47,
}  # fmt: skip
PENDING = 2  # planted["pending_state"]: recovery started, transfer started — "Access while ..." (low)


@pytest.fixture
def org_sizes():
    return {"vaults": 23, "items": 487, "users": 52, "groups": 8}


@pytest.fixture
def synced_demo(fake_org):
    account = fake_org.add_account()
    run, _ = sync.start_sync(account=account)
    run = sync.run_sync(sync_run_id=run.pk)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    compute_findings(account=account, sync_run=run)
    return account, fake_org.data["planted"]


def _open(kind):
    return Finding.objects.filter(kind=kind, status=Finding.Status.OPEN)


def test_the_demo_shows_exactly_the_seeded_counts(synced_demo):
    _, planted = synced_demo

    counts = {kind: _open(kind).count() for kind in SEEDED}
    counts["over_permissioned"] -= _open("over_permissioned").filter(severity=Finding.Severity.LOW).count()

    assert counts == SEEDED
    assert _open("over_permissioned").filter(severity=Finding.Severity.LOW).count() == PENDING
    assert {kind: len(planted[kind]) for kind in SEEDED} == SEEDED


def test_each_finding_concerns_exactly_the_items_and_people_the_generator_planted(synced_demo):
    _, planted = synced_demo

    for kind in ("unclear_name", "orphaned", "weak", "missing_metadata"):
        assert set(_open(kind).values_list("item__op_id", flat=True)) == set(planted[kind]), kind
    people = set(_open("over_permissioned").values_list("op_user__op_id", flat=True))
    assert people == set(planted["over_permissioned"]) | set(planted["pending_state"])
    found_groups = {
        frozenset(f.related_items.values_list("op_id", flat=True)) for f in _open("duplicate").prefetch_related("related_items")
    }
    assert found_groups == {frozenset(group) for group in planted["duplicate"]}
    reused_groups = {
        frozenset(f.related_items.values_list("op_id", flat=True))
        for f in _open("reused_secret").prefetch_related("related_items")
    }
    assert reused_groups == {frozenset(group) for group in planted["reused_secret"]}
