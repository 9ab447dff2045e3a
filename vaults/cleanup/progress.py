"""How far a plan's latest execution is, as the plan page shows it while it runs.

The rows are the truth: "Execute" writes `cleanup.plan.execution_requested` to the audit log (with
the approved actions it covers) and `execute_plan` stamps `executed_at` when it ends. So:

1. Requested after the last `executed_at`, none of its actions executing or settled yet: QUEUED
   (no worker has taken it).
2. An action executing, or some settled and the run not ended: RUNNING.
3. Ended after the request: FINISHED, or FAILED when one of its actions failed (execution stops
   at the first failure).
4. Never requested: NONE (nothing to show).
5. Not ended and nothing moved for STALLED_AFTER: INTERRUPTED. Its worker is gone (the demo's
   server was stopped, a worker was killed); the page stops polling and says to press Execute
   again, which runs only what is still approved (execution is idempotent).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from compliance.models import AuditLogEntry
from vaults.cleanup.models import CleanupPlan, ProposedAction

REQUESTED = "cleanup.plan.execution_requested"
Status = ProposedAction.Status
# Longer than any one action runs (an `op` call times out long before): past it, nobody is running it.
STALLED_AFTER = timedelta(minutes=30)
# Statuses an action reaches when execution has dealt with it.
SETTLED = {Status.DONE, Status.FAILED, Status.MANUAL, Status.MANUAL_DONE, Status.VERIFIED}


class State(enum.StrEnum):
    NONE = "none"
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


LABELS = {
    State.QUEUED: "Queued",
    State.RUNNING: "Running",
    State.FINISHED: "Finished",
    State.FAILED: "Failed",
    State.INTERRUPTED: "Interrupted",
}


@dataclass
class ExecutionProgress:
    state: State
    requested_at: datetime | None = None
    actions: list[ProposedAction] = field(default_factory=list)

    @property
    def label(self) -> str:
        return LABELS.get(self.state, "")

    @property
    def is_active(self) -> bool:
        return self.state in (State.QUEUED, State.RUNNING)

    @property
    def stalled_minutes(self) -> int:
        return int(STALLED_AFTER.total_seconds() // 60)

    @property
    def settled(self) -> int:
        return sum(1 for action in self.actions if action.status in SETTLED)

    @property
    def failure(self) -> str:
        """The reason of the failed action, for "Failed: reason"."""
        return next(
            (action.error or "no reason was recorded" for action in self.actions if action.status == Status.FAILED), ""
        )


def execution_progress(plan: CleanupPlan) -> ExecutionProgress:
    request = (
        AuditLogEntry.objects.filter(
            action=REQUESTED, target_type=CleanupPlan._meta.label_lower, target_id=str(plan.pk)
        )
        .order_by("-created_at", "-pk")
        .values("created_at", "details")
        .first()
    )
    if request is None:
        return ExecutionProgress(state=State.NONE)
    action_ids = [int(pk) for pk in (request["details"] or {}).get("actions", [])]
    actions = list(plan.actions.filter(pk__in=action_ids).select_related("plan").order_by("position", "pk"))
    executed_at = CleanupPlan.objects.filter(pk=plan.pk).values_list("executed_at", flat=True).first()
    ended = executed_at is not None and executed_at >= request["created_at"]
    if any(action.status == Status.EXECUTING for action in actions):
        state = State.RUNNING
    elif not ended:
        # Between two actions none is executing: the run is under way once one has settled.
        state = State.RUNNING if any(action.status in SETTLED for action in actions) else State.QUEUED
    elif any(action.status == Status.FAILED for action in actions):
        state = State.FAILED
    else:
        state = State.FINISHED
    if state in (State.QUEUED, State.RUNNING) and _last_activity(request["created_at"], actions) < (
        timezone.now() - STALLED_AFTER
    ):
        state = State.INTERRUPTED
    return ExecutionProgress(state=state, requested_at=request["created_at"], actions=actions)


def _last_activity(requested_at: datetime, actions: list[ProposedAction]) -> datetime:
    moments = [requested_at]
    moments += [moment for action in actions for moment in (action.started_at, action.finished_at) if moment]
    return max(moments)
