"""Faults during a sync run by a real worker: the broker restarted (mid-run and with a sync still
queued), the database connection dropped. Every run ends in a clear state, the previous snapshot
survives, and nothing is fetched or stored twice."""

from __future__ import annotations

import subprocess
import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from vaults import sync
from vaults.fake_op import account as fake_account
from vaults.findings.models import HealthSnapshot
from vaults.models import Item, SyncRun
from vaults.sync_queue import enqueue_sync
from vaults.tasks import resume_waiting_syncs_task

from .conftest import PrivateRedis, Workers, point_app_at, terminate_other_backends, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.slow]

RENAMED_TITLE = "Renamed Production Login"


@pytest.fixture
def synced_then_changed(fake_org: Any, transactional_db: None, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A first good sync in-process, then 30 items renamed in 1Password and every `op` call slowed
    down, so the next sync spends a few seconds in its item-details phase."""
    account = fake_org.add_account()
    first, _ = sync.start_sync(account=account)
    assert sync.run_sync(sync_run_id=first.pk).status == SyncRun.Status.SUCCEEDED
    renamed = [i["id"] for i in fake_org.data["items"] if i.get("state", "ACTIVE") == "ACTIVE"][:30]
    for item_id in renamed:
        fake_account.rename_item(fake_org.path, item_id, RENAMED_TITLE)
    monkeypatch.setenv("FAKE_OP_LATENCY_MS", "300")
    fake_org.reset_calls()
    return {"account": account, "renamed": renamed, "snapshot": _snapshot(), "org": fake_org}


def _snapshot() -> dict[str, tuple[str, int | None]]:
    return {op_id: (title, version) for op_id, title, version in Item.objects.values_list("op_id", "title", "detail_version")}


def _wait_for_phase(run: SyncRun, phase: str, worker: Any) -> None:
    def reached() -> bool:
        run.refresh_from_db()
        return run.phase == phase or run.is_finished

    wait_for(reached, timeout=60, describe=lambda: f"run never reached {phase!r}:\n{worker.log()[-3000:]}")
    assert not run.is_finished, f"the run finished before the fault could be injected: {run.status} {run.error}"


def _wait_until_finished(run: SyncRun, worker: Any, timeout: float = 90) -> SyncRun:
    def finished() -> bool:
        run.refresh_from_db()
        return run.is_finished

    wait_for(finished, timeout=timeout, describe=lambda: f"run #{run.pk} still {run.status}:\n{worker.log()[-4000:]}")
    return run


def _assert_nothing_lost(before: dict[str, tuple[str, int | None]]) -> None:
    after = _snapshot()
    assert set(after) == set(before)
    assert not Item.objects.filter(removed_at__isnull=False).exists()
    for op_id, (_, version) in before.items():
        assert after[op_id][1] is None or version is None or after[op_id][1] >= version


def test_a_redis_restart_mid_sync_loses_nothing_and_the_worker_carries_on(
    synced_then_changed: dict[str, Any], private_redis: PrivateRedis, workers: Workers
) -> None:
    account, before = synced_then_changed["account"], synced_then_changed["snapshot"]
    worker = workers.start(redis_url=private_redis.url)
    run, _ = enqueue_sync(account=account, scope=SyncRun.Scope.ITEMS)
    _wait_for_phase(run, "item details", worker)

    private_redis.kill()  # the broker and every message in it are gone ...
    time.sleep(2)
    private_redis.start()  # ... and come back empty

    run = _wait_until_finished(run, worker)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    _assert_nothing_lost(before)
    renamed = synced_then_changed["renamed"]
    assert set(Item.objects.filter(op_id__in=renamed).values_list("title", flat=True)) == {RENAMED_TITLE}
    # Celery 5.7 / kombu 5.7: losing the broker while an acks_late task runs can end the worker's
    # main process ("Unrecoverable error" while restoring unacked messages) once its pool child has
    # finished the task. Production runs workers under a supervisor (compose: restart
    # unless-stopped); do what it does.
    try:
        worker.process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass  # it reconnected by itself
    else:
        worker = workers.start(redis_url=private_redis.url)
    # The follow-up task was published after the restart and a worker on the new broker ran it.
    wait_for(lambda: HealthSnapshot.objects.filter(sync_run=run).exists(), timeout=60,
             describe=lambda: f"findings were never computed after the restart:\n{worker.log()[-3000:]}")  # fmt: skip
    # And it still consumes new work.
    second, created = enqueue_sync(account=account, scope=SyncRun.Scope.ITEMS)
    assert created
    assert _wait_until_finished(second, worker).status == SyncRun.Status.SUCCEEDED, second.error
    assert second.counts.get("items_fetched", 0) == 0  # nothing changed since: nothing fetched twice


def test_a_sync_queued_when_redis_loses_its_messages_is_redelivered_by_the_beat_sweep(
    synced_then_changed: dict[str, Any], private_redis: PrivateRedis, workers: Workers
) -> None:
    account, before = synced_then_changed["account"], synced_then_changed["snapshot"]
    point_app_at(private_redis.url)
    run, _ = enqueue_sync(account=account, scope=SyncRun.Scope.ITEMS)  # queued; no worker yet
    private_redis.kill()
    private_redis.start()  # the queued message is lost with the broker's memory
    worker = workers.start(redis_url=private_redis.url)
    time.sleep(2)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.QUEUED  # nobody will ever deliver it ...
    again, created = enqueue_sync(account=account)
    assert (again.pk, created) == (run.pk, False)  # ... and it blocks every later sync of the account

    # The every-minute sweep hands a run queued for longer than STALE_AFTER to a worker again.
    SyncRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - sync.STALE_AFTER - timedelta(seconds=1))
    assert resume_waiting_syncs_task() == 1

    run = _wait_until_finished(run, worker)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    _assert_nothing_lost(before)


def test_a_dropped_database_connection_fails_the_run_readably_and_the_next_sync_succeeds(
    synced_then_changed: dict[str, Any], shared_redis_url: str, workers: Workers
) -> None:
    account, before = synced_then_changed["account"], synced_then_changed["snapshot"]
    worker = workers.start(redis_url=shared_redis_url)
    run, _ = enqueue_sync(account=account, scope=SyncRun.Scope.ITEMS)
    _wait_for_phase(run, "item details", worker)

    assert terminate_other_backends() >= 1  # the worker's connection, mid-run

    run = _wait_until_finished(run, worker, timeout=60)
    assert run.status == SyncRun.Status.FAILED
    assert "OperationalError" in run.error or "connection" in run.error.lower(), run.error
    assert run.finished_at is not None
    _assert_nothing_lost(before)

    retry, created = enqueue_sync(account=account, scope=SyncRun.Scope.ITEMS)
    assert created
    retry = _wait_until_finished(retry, worker)
    assert retry.status == SyncRun.Status.SUCCEEDED, retry.error
    renamed = synced_then_changed["renamed"]
    assert set(Item.objects.filter(op_id__in=renamed).values_list("title", flat=True)) == {RENAMED_TITLE}
    _assert_nothing_lost(before)
