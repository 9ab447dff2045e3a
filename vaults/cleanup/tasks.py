"""Celery entry points for cleanup. Tasks take IDs, re-read rows and call `execute.py`."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from vaults.cleanup import execute

# The follow-up sync normally finishes within minutes; poll its row instead of blocking a worker.
RECONCILE_POLL_SECONDS = 5
RECONCILE_MAX_POLLS = 720  # one hour


@shared_task(name="vaults.cleanup.tasks.execute_plan_task")
def execute_plan_task(plan_id: int) -> dict[str, Any]:
    run = execute.execute_plan(plan_id=plan_id)
    return {"done": run.done, "manual": run.manual, "failed": run.failed}


@shared_task(name="vaults.cleanup.tasks.execute_action_task")
def execute_action_task(action_id: int) -> str:
    return str(execute.execute_action(action_id=action_id).status)


@shared_task(bind=True, name="vaults.cleanup.tasks.reconcile_after_sync_task", max_retries=RECONCILE_MAX_POLLS)
def reconcile_after_sync_task(self: Task, plan_id: int, sync_run_id: int) -> bool:
    if execute.reconcile_after_sync(plan_id=plan_id, sync_run_id=sync_run_id):
        return True
    raise self.retry(countdown=RECONCILE_POLL_SECONDS)


@shared_task(name="vaults.cleanup.tasks.reconcile_account_plans_task")
def reconcile_account_plans_task(account_id: int, sync_run_id: int) -> int:
    """After every successful sync (the hourly one included): settle manual steps marked done and
    actions a crash left executing, in every plan of the account that has any."""
    from vaults.cleanup.models import ProposedAction

    waiting = (ProposedAction.Status.MANUAL_DONE, ProposedAction.Status.EXECUTING)
    plan_ids = set(
        ProposedAction.objects.filter(plan__account_id=account_id, status__in=waiting).values_list("plan_id", flat=True)
    )
    plan_ids |= execute.plans_with_unproven_rotations(account_id)
    for plan_id in sorted(plan_ids):
        execute.reconcile_after_sync(plan_id=plan_id, sync_run_id=sync_run_id)
    return len(plan_ids)
