"""Invariant 3 with a real worker: SIGKILL in the middle of a sync keeps the last good state,
and the next run resumes and succeeds."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from vaults import sync
from vaults.fake_op import account as fake_account
from vaults.models import Item, SyncRun
from vaults.sync_queue import enqueue_sync

pytestmark = [pytest.mark.worker, pytest.mark.slow]


@pytest.fixture
def synced_then_changed(fake_org, transactional_db, monkeypatch):
    account = fake_org.add_account()
    first, _ = sync.start_sync(account=account)
    assert sync.run_sync(sync_run_id=first.pk).status == SyncRun.Status.SUCCEEDED
    renamed = [i["id"] for i in fake_org.data["items"] if i.get("state", "ACTIVE") == "ACTIVE"][:12]
    for item_id in renamed:
        fake_account.rename_item(fake_org.path, item_id, "Renamed Production Login")
    monkeypatch.setenv("FAKE_OP_LATENCY_MS", "400")  # slow enough to kill the worker mid-way
    return account, renamed


def test_a_worker_killed_mid_sync_leaves_the_previous_snapshot_and_the_next_run_succeeds(synced_then_changed, celery_worker):
    account, renamed = synced_then_changed
    before = {op_id: (title, version) for op_id, title, version in Item.objects.values_list("op_id", "title", "detail_version")}

    run, _ = enqueue_sync(account=account, scope=SyncRun.Scope.ITEMS)
    deadline = time.monotonic() + 120
    while run.phase != "item details":
        assert time.monotonic() < deadline, celery_worker.log()[-3000:]
        time.sleep(0.1)
        run.refresh_from_db()
    celery_worker.kill()

    run.refresh_from_db()
    assert run.status == SyncRun.Status.RUNNING  # nobody is left to finish it
    after_kill = dict(Item.objects.values_list("op_id", "detail_version"))
    assert set(after_kill) == set(before)  # nothing was deleted
    assert Item.objects.filter(removed_at__isnull=False).count() == 0
    for op_id, (_title, version) in before.items():
        # Each item is either untouched or moved forward to a newer, complete version.
        assert after_kill[op_id] is None or version is None or after_kill[op_id] >= version

    # Ten minutes later the heartbeat is stale: the run may be claimed again and resumes.
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - sync.STALE_AFTER - timedelta(seconds=1))
    resumed = sync.run_sync(sync_run_id=run.pk)

    assert resumed.status == SyncRun.Status.SUCCEEDED, resumed.error
    assert set(Item.objects.filter(op_id__in=renamed).values_list("title", flat=True)) == {"Renamed Production Login"}
