"""Queueing a sync for a worker: the Sync page, cleanup's verification sync and the hourly beat
task start syncs here; `vaults/sync.py` runs them.

The task is sent by name (openclaw_web/dispatch.py), so this domain module never imports the
task module that imports it back (docs/architecture.md).
"""

from __future__ import annotations

from typing import Any

from openclaw_web import dispatch
from vaults import sync
from vaults.models import Account, SyncRun

SYNC_TASK = "vaults.tasks.sync_account_task"


def enqueue_sync(*, account: Account, scope: str = SyncRun.Scope.FULL, triggered_by: Any = None) -> tuple[SyncRun, bool]:
    """Queue a sync unless one is under way, and hand a new one to a worker once its row is
    committed (a worker must never look for a row that is not there yet). Returns (run, dispatched):
    a run lost with its worker is handed out again (sync.is_abandoned)."""
    run, created = sync.start_sync(account=account, scope=scope, triggered_by=triggered_by)
    if created:
        dispatch.after_commit(SYNC_TASK, run.pk)
    return run, created
