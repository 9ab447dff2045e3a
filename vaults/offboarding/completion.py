"""When an offboarding case is done: what still blocks it, and closing it once nothing does.

A case completes when (1) every rotation of its cleanup plan shows a new fingerprint in the
inventory (the sync's proof; rejected rotations are an approver's decision not to rotate) —
a case with secrets to rotate and no plan yet is not complete, nor one whose plans leave a
secret without a rotation (a lead's plan covers only their vaults) —
(2) no action of the plan failed or is still waiting (group removals included), and (3) the
inventory shows no direct grant and no group membership of the person left (a person removed from
1Password has none): a removal action marked done counts only once a sync shows it.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from compliance import audit
from vaults.cleanup import rotation
from vaults.cleanup.models import ProposedAction
from vaults.models import Account, GroupMembership, VaultGrant
from vaults.offboarding.actions import remaining_specs
from vaults.offboarding.cases import case_plan
from vaults.offboarding.models import OffboardingCase
from vaults.offboarding.removals import EVERYONE_GROUPS

Status = ProposedAction.Status
WAITING = {Status.PROPOSED, Status.APPROVED, Status.EXECUTING, Status.MANUAL, Status.MANUAL_DONE}


def blockers(case: OffboardingCase) -> list[str]:
    """What keeps the case open, in words; empty when it is complete."""
    found: list[str] = []
    if case.plan is None:
        lines = len(case_plan(case).lines)
        if lines:
            found.append(f"{lines} secret{'s' if lines != 1 else ''} to rotate: create the actions.")
    else:
        remaining = [s for s in remaining_specs(case, decided=True)[0] if s.kind == ProposedAction.Kind.ROTATE_SECRET]
        if remaining:
            n = len(remaining)
            found.append(f"{n} secret{'s' if n != 1 else ''} to rotate without an action yet: create the remaining actions.")
        actions = ProposedAction.objects.filter(plan__in=case.plans()).select_related("item", "vault", "op_user", "op_group")
        for action in actions.order_by("plan_id", "position", "pk"):
            if action.status == Status.REJECTED:
                continue
            label = f"“{action.item.title}” ({action.vault_name})" if action.item else action.vault_name
            if action.kind == ProposedAction.Kind.ROTATE_SECRET:
                if rotation.fingerprint_changed(action) or rotation.is_complete(action):
                    continue
                found.append(f"Rotate {label}: no sync has shown a new secret yet ({action.status_label.lower()}).")
            elif action.status == Status.FAILED:
                found.append(f"{action.get_kind_display()} on {label} failed: {action.error[:200]}")
            elif action.status in WAITING:
                found.append(f"{action.get_kind_display()} on {label}: {action.status_label.lower()}.")
    user = case.op_user
    if user.removed_at is None:
        for vault_name in VaultGrant.objects.filter(user=user, vault__removed_at__isnull=True).values_list(
            "vault__name", flat=True
        ).order_by("vault__name"):
            found.append(f"Direct access to “{vault_name}” remains.")
        proposed = set(
            ProposedAction.objects.filter(plan__in=case.plans(), kind=ProposedAction.Kind.REMOVE_GROUP_MEMBER)
            .exclude(status=Status.REJECTED)
            .values_list("op_group_id", flat=True)
        )
        for group_id, group_name in GroupMembership.objects.filter(user=user, group__removed_at__isnull=True).values_list(
            "group_id", "group__name"
        ).order_by("group__name"):
            found.append(f"Still a member of the group “{group_name}”: {_membership_hint(group_id in proposed, group_name)}")
    return found


def _membership_hint(proposed: bool, group_name: str) -> str:
    if group_name in EVERYONE_GROUPS:
        return "1Password takes a person out of it only when their account is deleted (People → the person → Delete)."
    if proposed:
        return "its removal is an action of the plan; the next sync after it runs confirms it."
    return "create the actions to propose removing them (or remove them in 1Password → Groups)."


def refresh(case: OffboardingCase) -> OffboardingCase:
    """Complete an open case that has nothing left (audit-logged once: the update is conditional)."""
    if not case.is_open or blockers(case):
        return case
    now = timezone.now()
    if OffboardingCase.objects.filter(pk=case.pk, status=OffboardingCase.Status.OPEN).update(
        status=OffboardingCase.Status.COMPLETED, completed_at=now
    ):
        case.refresh_from_db()
        audit.record(
            "offboarding.case_completed", actor_label="system (sync)", target=case,
            details={"due_date": case.due_date, "met_sla": case.met_sla},
        )
    return case


def refresh_open_cases(account: Account) -> int:
    """After a sync: complete every open case of `account` that is done; returns how many."""
    done = 0
    cases = OffboardingCase.objects.filter(Q(account=account), status=OffboardingCase.Status.OPEN)
    for case in cases.select_related("op_user", "plan"):
        done += not refresh(case).is_open
    return done
