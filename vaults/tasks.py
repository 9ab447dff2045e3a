"""Celery entry points for syncing. Tasks take IDs, re-read rows and call `vaults.sync`
(queueing a sync is the domain's `vaults.sync_queue.enqueue_sync`)."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from django.db.models import Q
from django.utils import timezone

from vaults import sync
from vaults.models import Account, SyncRun
from vaults.sync_queue import enqueue_sync


class SyncRunTask(Task):
    """Marks the SyncRun failed when the task itself dies (the row is the truth about the job)."""

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        run_id = kwargs.get("sync_run_id") or (args[0] if args else None)
        if run_id is not None:
            SyncRun.objects.filter(pk=run_id, status=SyncRun.Status.RUNNING).update(
                status=SyncRun.Status.FAILED, finished_at=timezone.now(),
                error=f"The sync task crashed ({type(exc).__name__}); retry it from the Sync page.",
            )


@shared_task(base=SyncRunTask, name="vaults.tasks.sync_account_task")
def sync_account_task(sync_run_id: int) -> str:
    run = sync.run_sync(sync_run_id=sync_run_id)
    if run.status == SyncRun.Status.SUCCEEDED:
        from vaults.cleanup.tasks import reconcile_account_plans_task

        compute_findings_task.delay(run.account_id, run.pk)
        reconcile_account_plans_task.delay(run.account_id, run.pk)
        # What the sync learned may complete a removal or a guest may be new.
        from vaults.access_expiry.tasks import run_access_expiry_task

        run_access_expiry_task.delay(run.account_id)
    return run.status


@shared_task(name="vaults.tasks.compute_findings_task")
def compute_findings_task(account_id: int, sync_run_id: int | None = None) -> dict[str, int]:
    from vaults.findings.engine import compute_findings

    account = Account.objects.get(pk=account_id)
    run = SyncRun.objects.filter(pk=sync_run_id).first() if sync_run_id else None
    summary = compute_findings(account=account, sync_run=run)
    return dict(getattr(summary, "open_by_kind", {}) or {})


@shared_task(name="vaults.tasks.sync_all_accounts_task")
def sync_all_accounts_task() -> int:
    """Beat, hourly: items every hour; permissions ride along when their interval is due."""
    queued = 0
    for account in Account.objects.all():
        _, created = enqueue_sync(account=account, scope=SyncRun.Scope.ITEMS)
        queued += created
    return queued


@shared_task(name="vaults.tasks.resume_waiting_syncs_task")
def resume_waiting_syncs_task() -> int:
    """Beat, every minute: resume runs whose rate-limit window has passed, runs whose worker
    died (stale heartbeat), and runs queued so long ago that their message was probably lost (a
    Redis restarted without persistence): a QUEUED run blocks every later sync of its account.
    Never parked in a countdown: the broker would redeliver it. A duplicate delivery is harmless
    (`sync.claim` is conditional); a lost-looking QUEUED run is sent again at most once per
    STALE_AFTER (`heartbeat_at` stamps the resend until a worker claims it)."""
    now = timezone.now()
    due = list(SyncRun.objects.filter(status=SyncRun.Status.WAITING, waiting_until__lte=now).values_list("pk", flat=True))
    stale = list(SyncRun.objects.filter(status=SyncRun.Status.RUNNING, heartbeat_at__lt=now - sync.STALE_AFTER).values_list("pk", flat=True))
    lost = list(
        SyncRun.objects.filter(status=SyncRun.Status.QUEUED, created_at__lt=now - sync.STALE_AFTER)
        .filter(Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - sync.STALE_AFTER))
        .values_list("pk", flat=True)
    )
    SyncRun.objects.filter(pk__in=lost, status=SyncRun.Status.QUEUED).update(heartbeat_at=now)
    for pk in due + stale + lost:
        sync_account_task.delay(pk)
    return len(due) + len(stale) + len(lost)
