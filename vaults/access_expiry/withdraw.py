"""Withdrawing a removal that no longer has a reason: the end date was moved later or cleared.

A plan proposed when the date came would otherwise stay approvable after the contract was
extended, and an approver could remove access the sponsor has just prolonged. Every action of
the end date's removal plans still awaiting approval is rejected, with the reason written on the
action (the plan page shows it), the plan's status and the proposer's notice as for any
rejection (vaults/cleanup/approval.withdraw_actions), and one audit entry naming who withdrew it. Approved or running
actions are not touched: two people decided those, and stopping them is an approver's call on
the plan page.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from compliance import audit
from vaults.access_expiry.models import AccessEndDate
from vaults.cleanup.approval import withdraw_actions
from vaults.cleanup.models import CleanupPlan, ProposedAction

SYSTEM_LABEL = "access expiry"


def removal_plans(end_date: AccessEndDate) -> list[CleanupPlan]:
    ids = [pk for pk in (end_date.removal_plan_id, end_date.outside_scope_plan_id) if pk is not None]
    return list(CleanupPlan.objects.filter(pk__in=ids).order_by("pk"))


def withdraw_removal(
    end_date: AccessEndDate,
    *,
    why: str,
    actor: AbstractBaseUser | AnonymousUser | None = None,
    request: HttpRequest | None = None,
) -> list[int]:
    """Reject the unapproved actions of `end_date`'s removal plans; returns their ids. The
    caller forgets the plans on the end date."""
    when = timezone.localdate().isoformat()
    note = f"Withdrawn on {when}: {why}"[:500]
    withdrawn: list[int] = []
    for plan in removal_plans(end_date):
        with transaction.atomic():
            withdrawn.extend(_withdraw_plan(end_date, plan, note=note, why=why, actor=actor, request=request))
    return withdrawn


def _withdraw_plan(
    end_date: AccessEndDate,
    plan: CleanupPlan,
    *,
    note: str,
    why: str,
    actor: AbstractBaseUser | AnonymousUser | None,
    request: HttpRequest | None,
) -> list[int]:
    ids = withdraw_actions(ProposedAction.objects.filter(plan=plan), note=note)
    if not ids:
        return []
    audit.record(
        "access_expiry.removal_withdrawn", actor=actor, actor_label="" if actor else SYSTEM_LABEL,
        request=request, target=end_date.op_user,
        details={"end_date": end_date.pk, "plan": plan.pk, "actions": ids, "why": why[:300]},
    )  # fmt: skip
    return ids
