"""A case's timeline: opened, actions created, approvals, executions, manual steps, rotations
proven by a sync, completion. Read from the audit log and from the cleanup rows that record the
decisions themselves (approvals, execution times, manual steps marked done): this only reads."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Q

from compliance.models import AuditLogEntry
from vaults.cleanup.models import Approval, ProposedAction
from vaults.offboarding.models import OffboardingCase

WORDS = {
    "offboarding.case_opened": "Case opened",
    "offboarding.plan_created": "Rotation and removal actions created",
    "offboarding.case_completed": "Case completed",
    "offboarding.case_cancelled": "Case cancelled",
    "cleanup.plan.submitted": "Actions submitted for approval",
    "cleanup.plan.approved": "Plan approved",
    "cleanup.plan.rejected": "Plan rejected",
    "cleanup.plan.execution_requested": "Execution requested",
    "cleanup.action.manual_step": "Manual step waiting for an administrator",
    "cleanup.action.rotation_verified": "New secret confirmed by sync",
    "cleanup.action.rotation_not_visible": "Sync still shows the old secret",
    "cleanup.action.verified": "Manual step verified by sync",
    "cleanup.rotation.checklist_ticked": "Rotation checklist step ticked",
}


@dataclass(frozen=True)
class Event:
    at: datetime.datetime
    what: str
    who: str
    target: str


def timeline(case: OffboardingCase) -> list[Event]:
    where = Q(target_type="offboarding.offboardingcase", target_id=str(case.pk))
    plan_ids = [p.pk for p in case.plans()]  # the first plan and any further one
    if plan_ids:
        action_ids = [str(pk) for pk in ProposedAction.objects.filter(plan_id__in=plan_ids).values_list("pk", flat=True)]
        where |= Q(target_type="cleanup.cleanupplan", target_id__in=[str(pk) for pk in plan_ids])
        where |= Q(target_type="cleanup.proposedaction", target_id__in=action_ids)
    # Decisions and executions come from their own rows below, not from their (view-written) log entries.
    entries = AuditLogEntry.objects.filter(where).exclude(action__in=ROW_RECORDED).order_by("seq")
    events = [
        Event(at=e.created_at, what=WORDS.get(e.action, e.action), who=e.actor_label, target=e.target_label)
        for e in entries.only("created_at", "action", "actor_label", "target_label")
    ]
    for plan_id in plan_ids:
        events += _action_events(plan_id)
    return sorted(events, key=lambda e: e.at)


ROW_RECORDED = ("cleanup.action.approved", "cleanup.action.rejected", "cleanup.action.manual_done")
FINISHED: dict[str, str] = {ProposedAction.Status.DONE: "Action executed", ProposedAction.Status.FAILED: "Action failed",
            ProposedAction.Status.VERIFIED: "Manual step verified by sync"}


def _action_events(plan_id: int) -> list[Event]:
    events = []
    for a in Approval.objects.filter(action__plan_id=plan_id).select_related("approver", "action__item", "action__vault"):
        what = "Action approved" if a.decision == Approval.Decision.APPROVE else "Action rejected"
        events.append(Event(at=a.created_at, what=what, who=a.approver.get_username(), target=_label(a.action)))
    for action in ProposedAction.objects.filter(plan_id=plan_id).select_related("item", "vault", "manual_done_by"):
        if action.manual_done_at is not None:
            who = action.manual_done_by.get_username() if action.manual_done_by else ""
            events.append(Event(at=action.manual_done_at, what="Manual step marked done", who=who, target=_label(action)))
        if action.finished_at is not None and action.status in FINISHED:
            events.append(Event(at=action.finished_at, what=FINISHED[action.status], who="worker", target=_label(action)))
    return events


def _label(action: ProposedAction) -> str:
    target = f"{action.item.title} ({action.vault_name})" if action.item else action.vault_name
    return f"{action.get_kind_display()}: {target}"
