"""Invariant 5 under SIGKILL: a worker killed in the middle of an approved plan. No action is
written twice, the action caught EXECUTING is never blindly re-run, and after a sync and the
reconciliation every action is DONE or FAILED with a reason."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.vaults.cleanup.conftest import approved_plan
from vaults.cleanup import execute, plans
from vaults.cleanup.models import CleanupPlan, ProposedAction
from vaults.cleanup.tasks import execute_plan_task
from vaults.fake_op.calllog import read_call_log
from vaults.fake_op.knobs import read_counter
from vaults.models import Item, SyncRun

from .conftest import Workers, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.slow]

Status = ProposedAction.Status
N_ACTIONS = 6


def _edits_per_item(org: Any) -> dict[str, int]:
    """Completed `op item edit` calls per item id, from the fake op's call log."""
    counts: dict[str, int] = {}
    for entry in read_call_log(org.call_log):
        if entry["command"] == "item edit":
            item_id = entry["argv"][entry["argv"].index("edit") + 1]
            counts[item_id] = counts.get(item_id, 0) + 1
    return counts


def test_a_worker_killed_mid_plan_never_runs_an_action_twice_and_the_sync_settles_the_rest(
    cleanup_org: Any, team_lead: Any, approver: Any, second_approver: Any, shared_redis_url: str,
    workers: Workers, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    items = list(Item.objects.filter(archived=False, removed_at__isnull=True).select_related("vault").order_by("pk")[:N_ACTIONS])
    plan = approved_plan(
        account=cleanup_org.account, proposer=team_lead, approvers=[approver, second_approver],
        specs=[plans.ActionSpec(ProposedAction.Kind.RENAME_ITEM, item.vault, item=item,
                                params={"title": f"Killed Plan Rename {n}"}) for n, item in enumerate(items)],
    )  # fmt: skip
    assert set(plan.actions.values_list("status", flat=True)) == {Status.APPROVED}
    cleanup_org.call_log.unlink(missing_ok=True)
    edits_before = read_counter(str(cleanup_org.path)).get("per_command", {}).get("item edit", 0)
    monkeypatch.setenv("FAKE_OP_LATENCY_MS", "1500")  # every op call: room to kill mid-plan
    worker = workers.start(redis_url=shared_redis_url)

    execute_plan_task.delay(plan.pk)

    def caught_mid_plan() -> bool:
        statuses = list(plan.actions.values_list("status", flat=True))
        return statuses.count(Status.DONE) >= 1 and Status.EXECUTING in statuses

    wait_for(caught_mid_plan, timeout=60, poll=0.05, describe=lambda: f"plan never got under way:\n{worker.log()[-3000:]}")
    worker.kill()

    caught = list(plan.actions.filter(status=Status.EXECUTING))
    assert len(caught) == 1
    caught_edits = _edits_per_item(cleanup_org).get(caught[0].item.op_id, 0)
    done_before_kill = set(plan.actions.filter(status=Status.DONE).values_list("pk", flat=True))

    # The broker redelivers the unacknowledged task (acks_late) to a new worker.
    worker = workers.start(redis_url=shared_redis_url)
    execute_plan_task.delay(plan.pk)

    def plan_and_follow_up_sync_finished() -> bool:
        if plan.actions.filter(status__in=[Status.APPROVED, Status.EXECUTING]).exclude(pk=caught[0].pk).exists():
            return False
        follow_up = CleanupPlan.objects.get(pk=plan.pk).follow_up_sync
        return follow_up is not None and follow_up.is_finished

    wait_for(plan_and_follow_up_sync_finished, timeout=120,
             describe=lambda: f"the redelivered plan or its sync did not finish:\n{worker.log()[-3000:]}")  # fmt: skip
    workers.stop_all()

    # Not re-run: still EXECUTING, no further write for its item; done ones were not redone.
    caught[0].refresh_from_db()
    assert caught[0].status == Status.EXECUTING
    assert _edits_per_item(cleanup_org).get(caught[0].item.op_id, 0) == caught_edits
    assert done_before_kill <= set(plan.actions.filter(status=Status.DONE).values_list("pk", flat=True))

    # Half an hour later a sync shows whether the interrupted write landed; reconcile settles it.
    monkeypatch.delenv("FAKE_OP_LATENCY_MS")
    ProposedAction.objects.filter(pk=caught[0].pk).update(
        started_at=timezone.now() - execute.STALE_EXECUTING_AFTER - timedelta(minutes=1)
    )
    run = cleanup_org.sync(scope=SyncRun.Scope.ITEMS)
    assert execute.reconcile_after_sync(plan_id=plan.pk, sync_run_id=run.pk)

    final = {a.pk: a for a in plan.actions.select_related("item")}
    assert {a.status for a in final.values()} <= {Status.DONE, Status.FAILED}
    for action in final.values():
        if action.status == Status.FAILED:
            assert action.error, action
        title = cleanup_org.item(action.item.op_id)["title"]
        assert (title == action.params["title"]) == (action.status == Status.DONE), (action.pk, title)
    # Nothing written twice: at most one completed edit per action, and no more edits started
    # (the killed one included) than there are actions.
    assert all(n <= 1 for n in _edits_per_item(cleanup_org).values()), _edits_per_item(cleanup_org)
    assert read_counter(str(cleanup_org.path))["per_command"]["item edit"] - edits_before <= N_ACTIONS
