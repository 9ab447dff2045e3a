"""A sync lost with its worker (or with the demo's server, whose in-process tasks die with it)
must not block every later "Sync now" as "already under way": after STALE_AFTER with no sign of
life it is handed out again. A live run is never handed out twice (the decoys)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.vaults.factories import make_account, make_sync_run
from vaults import sync
from vaults.models import SyncRun

pytestmark = pytest.mark.django_db

STALE = sync.STALE_AFTER + timedelta(seconds=1)
FRESH = sync.STALE_AFTER - timedelta(minutes=1)


def _run(status: str, *, heartbeat_age: timedelta | None = None, age: timedelta = timedelta(0)) -> SyncRun:
    now = timezone.now()
    run = make_sync_run(account=make_account(), status=status)
    SyncRun.objects.filter(pk=run.pk).update(
        created_at=now - age, heartbeat_at=None if heartbeat_age is None else now - heartbeat_age
    )
    run.refresh_from_db()
    return run


@pytest.mark.parametrize(
    ("status", "heartbeat_age", "age", "handed_out_again"),
    [
        (SyncRun.Status.RUNNING, STALE, STALE, True),
        (SyncRun.Status.RUNNING, FRESH, STALE, False),  # a long sync still beating
        (SyncRun.Status.QUEUED, None, STALE, True),
        (SyncRun.Status.QUEUED, None, FRESH, False),  # waiting its turn behind other work
        (SyncRun.Status.WAITING, None, STALE, False),  # a rate-limit window: the beat resumes it
    ],
)
def test_only_a_run_without_sign_of_life_is_handed_out_again(status, heartbeat_age, age, handed_out_again):
    stuck = _run(status, heartbeat_age=heartbeat_age, age=age)

    run, dispatch = sync.start_sync(account=stuck.account)

    assert run.pk == stuck.pk  # never a second run beside it
    assert dispatch is handed_out_again
    assert SyncRun.objects.filter(account=stuck.account).count() == 1


def test_a_handed_out_run_is_claimed_once(fake_org):
    account = fake_org.add_account()
    stuck = make_sync_run(account=account, status=SyncRun.Status.RUNNING)
    SyncRun.objects.filter(pk=stuck.pk).update(heartbeat_at=timezone.now() - STALE)

    run, dispatch = sync.start_sync(account=account)
    finished = sync.run_sync(sync_run_id=run.pk)

    assert dispatch and finished.status == SyncRun.Status.SUCCEEDED, finished.error
    assert sync.claim(run.pk) is False  # a late first delivery does nothing
