"""The two-person rule: who may approve or reject, how many approvals an action needs, and when
approvals stop counting.

1. The proposer never approves (or rejects) their own plan; the UI hides the buttons and these
   functions refuse the request whatever sent it.
2. Risky actions (revocations, anything touching a production vault) need a second, distinct
   approver when the vault's Policy says so (`risky_actions_need_second_approver`).
3. An approval expires after `Policy.approval_ttl_hours`; only unexpired approvals count, and
   execution re-checks them (execute.py), so a stale approval can never run an action.
4. A plan no person proposed (OpenClaw's access-expiry identity, `proposed_by_system`) needs
   two distinct approvers for every action, whatever the policy: otherwise one human alone
   would turn a machine's proposal into a write to 1Password.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from openclaw_web.roles import Capability, has_capability
from vaults.cleanup import actions as action_kinds
from vaults.cleanup import notifications
from vaults.cleanup.models import Approval, CleanupPlan, ProposedAction
from vaults.cleanup.plans import refresh_status
from vaults.findings.models import EffectivePolicy, Policy

Status = ProposedAction.Status


class ApprovalRefused(Exception):
    """The decision is not allowed; the message is for the person."""


def proposed_by_system(plan: CleanupPlan) -> bool:
    """No person who may propose stands behind the plan: OpenClaw's own identities (the access
    expiry one is inactive and has no role), or a proposer who since lost the account or role."""
    proposer = plan.proposed_by
    return not proposer.is_active or not has_capability(proposer, Capability.PROPOSE_CLEANUP)


def required_approvals(action: ProposedAction) -> int:
    if proposed_by_system(action.plan):
        # The approvers are the only humans: two of them, whatever the policy waives (rule 4).
        return 2
    if action_kinds.is_risky(action) and any(p.risky_actions_need_second_approver for p in _policies(action)):
        return 2
    return 1


def _policies(action: ProposedAction) -> list[EffectivePolicy]:
    """The policies an action answers to: its vault's; for a membership removal (no vault), every
    vault the group reaches, so the strictest of them decides (and the global one when none)."""
    if action.vault is not None:
        return [Policy.for_vault(action.vault)]
    return [Policy.for_vault(v) for v in action_kinds.group_vaults(action.op_group_id)] or [Policy.for_vault(None)]


def current_approver_ids(action: ProposedAction, *, now: datetime | None = None) -> set[int]:
    """Distinct people whose approval of `action` has not expired."""
    now = now or timezone.now()
    rows = action.approvals.filter(decision=Approval.Decision.APPROVE, expires_at__gt=now)
    return set(rows.values_list("approver_id", flat=True))


def approvals_current(action: ProposedAction, *, now: datetime | None = None) -> bool:
    return len(current_approver_ids(action, now=now)) >= required_approvals(action)


def refusal(action: ProposedAction, user: User, *, now: datetime | None = None) -> str:
    """Why `user` may not decide on `action` now ("" when they may). The UI uses it to hide the
    buttons; approve/reject raise it."""
    if not has_capability(user, Capability.APPROVE_CLEANUP):
        return "Your role does not allow approving cleanup."
    if action.plan.proposed_by_id == user.pk:
        return "You proposed this plan: someone else must approve it (two-person rule)."
    if action.plan.status == CleanupPlan.Status.DRAFT:
        return "The plan is still a draft."
    if action.status != Status.PROPOSED:
        return f"The action is {action.get_status_display().lower()}, not awaiting approval."
    if user.pk in current_approver_ids(action, now=now):
        return "You already approved this action: the second approval must come from a different person."
    return ""


def plans_awaiting(user: User, *, now: datetime | None = None) -> QuerySet[CleanupPlan]:
    """Plans with an action `user` may approve now: `refusal`'s rule as one query (role, not the
    proposer, submitted, action awaiting approval, not already approved by them)."""
    if not has_capability(user, Capability.APPROVE_CLEANUP):
        return CleanupPlan.objects.none()
    now = now or timezone.now()
    mine = Approval.objects.filter(
        action=OuterRef("pk"), approver=user, decision=Approval.Decision.APPROVE, expires_at__gt=now
    )
    actions = ProposedAction.objects.filter(status=Status.PROPOSED).exclude(Exists(mine))
    return (
        CleanupPlan.objects.exclude(status=CleanupPlan.Status.DRAFT)
        .exclude(proposed_by=user)
        .filter(pk__in=actions.values("plan_id"))
    )


@dataclass
class PlanDecision:
    decided: list[int] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def approve_action(
    *, action: ProposedAction, approver: User, comment: str = "", now: datetime | None = None
) -> ProposedAction:
    now = now or timezone.now()
    with transaction.atomic():
        # `of`: a membership removal has no vault, and the nullable side of a join cannot be locked.
        action = (
            ProposedAction.objects.select_for_update(of=("self", "plan"))
            .select_related("plan", "vault")
            .get(pk=action.pk)
        )
        reason = refusal(action, approver, now=now)
        if reason:
            raise ApprovalRefused(reason)
        ttl = min(p.approval_ttl_hours for p in _policies(action))
        Approval.objects.create(
            action=action,
            approver=approver,
            decision=Approval.Decision.APPROVE,
            comment=comment[:2000],
            created_at=now,
            expires_at=now + timedelta(hours=ttl),
        )
        if approvals_current(action, now=now):
            ProposedAction.objects.filter(pk=action.pk, status=Status.PROPOSED).update(status=Status.APPROVED, error="")
            action.status = Status.APPROVED
    notifications.plan_decided(refresh_status(action.plan))
    return action


def reject_action(
    *, action: ProposedAction, approver: User, comment: str = "", now: datetime | None = None
) -> ProposedAction:
    now = now or timezone.now()
    with transaction.atomic():
        # `of`: a membership removal has no vault, and the nullable side of a join cannot be locked.
        action = (
            ProposedAction.objects.select_for_update(of=("self", "plan"))
            .select_related("plan", "vault")
            .get(pk=action.pk)
        )
        reason = refusal(action, approver, now=now)
        if reason and not reason.startswith("You already approved"):
            raise ApprovalRefused(reason)
        Approval.objects.create(
            action=action, approver=approver, decision=Approval.Decision.REJECT, comment=comment[:2000], created_at=now
        )
        ProposedAction.objects.filter(pk=action.pk, status=Status.PROPOSED).update(status=Status.REJECTED)
        action.status = Status.REJECTED
    notifications.plan_decided(refresh_status(action.plan))
    return action


def withdraw_actions(actions: QuerySet[ProposedAction], *, note: str) -> list[int]:
    """Reject, without an approver, the actions of `actions` still awaiting approval; their ids.

    For a proposal whose reason went away (an end date moved later): nobody decided against it,
    so no Approval row is written, but everything else a rejection does happens here too: the
    note on each action, the plan's status, the proposer told. The caller audits who withdrew."""
    with transaction.atomic():
        pending = list(actions.select_for_update(of=("self",)).filter(status=Status.PROPOSED).order_by("pk"))
        ids = [a.pk for a in pending]
        ProposedAction.objects.filter(pk__in=ids, status=Status.PROPOSED).update(status=Status.REJECTED, error=note[:500])
        for plan in CleanupPlan.objects.filter(pk__in={a.plan_id for a in pending}).order_by("pk"):
            notifications.plan_decided(refresh_status(plan))
    return ids


def _decide_plan(plan: CleanupPlan, approver: User, comment: str, *, approve: bool) -> PlanDecision:
    if plan.proposed_by_id == approver.pk:
        raise ApprovalRefused("You proposed this plan: someone else must approve it (two-person rule).")
    if not has_capability(approver, Capability.APPROVE_CLEANUP):
        raise ApprovalRefused("Your role does not allow approving cleanup.")
    decision = PlanDecision()
    for action in plan.actions.filter(status=Status.PROPOSED).select_related("plan", "vault"):
        try:
            if approve:
                approve_action(action=action, approver=approver, comment=comment)
            else:
                reject_action(action=action, approver=approver, comment=comment)
            decision.decided.append(action.pk)
        except ApprovalRefused as error:
            decision.refused.append(f"#{action.pk}: {error}")
    if not decision.decided:
        raise ApprovalRefused("Nothing to decide: " + ("; ".join(decision.refused) or "no action awaits approval."))
    return decision


def approve_plan(*, plan: CleanupPlan, approver: User, comment: str = "") -> PlanDecision:
    return _decide_plan(plan, approver, comment, approve=True)


def reject_plan(*, plan: CleanupPlan, approver: User, comment: str = "") -> PlanDecision:
    return _decide_plan(plan, approver, comment, approve=False)
