"""Turning a case's plan into approval-gated cleanup actions ("Create actions").

1. Each plan line whose item is still in the inventory with a secret field becomes a
   `rotate_secret` action; the rotation policy decides `op` or a manual step (vaults/cleanup/rotation.py).
2. Each direct grant becomes a `revoke_user` action, each group membership a
   `remove_group_member` action (removals.py).
3. A team lead creates actions only in vaults they own; the rest is named in the result so an
   admin (or that vault's owner) picks it up with a further "Create actions", which proposes
   only what no plan of the case covers yet. Each plan is submitted at once: approvers see it,
   never the proposer.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from compliance import audit
from vaults.cleanup import plans, scope
from vaults.cleanup.models import CleanupPlan, ProposedAction
from vaults.cleanup.specs import ActionSpec
from vaults.models import Item, SecretField
from vaults.offboarding.cases import CaseRefused, case_plan
from vaults.offboarding.models import OffboardingCase
from vaults.offboarding.plan import OffboardingPlan
from vaults.offboarding.removals import membership_specs, revocation_specs


@dataclass
class Created:
    plan: CleanupPlan
    skipped: list[str]


def rotation_specs(offboarding_plan: OffboardingPlan) -> tuple[list[ActionSpec], list[str]]:
    ids = [line.item_id for line in offboarding_plan.lines if line.item_id is not None]
    items = {i.pk: i for i in Item.objects.filter(pk__in=ids).select_related("vault")}
    with_secret = set(SecretField.objects.filter(item_id__in=ids).values_list("item_id", flat=True))
    specs: list[ActionSpec] = []
    skipped: list[str] = []
    for line in offboarding_plan.lines:
        item = items.get(line.item_id) if line.item_id is not None else None
        if item is None:
            skipped.append(f"{line.title} ({line.vault_name}): not in the inventory (yet): rotate it by hand")
        elif item.pk not in with_secret:
            skipped.append(f"{line.title} ({line.vault_name}): no secret field to rotate")
        else:
            specs.append(ActionSpec(ProposedAction.Kind.ROTATE_SECRET, item.vault, item=item, phase=ProposedAction.Phase.ROTATE))
    return specs, skipped


SpecKey = tuple[str, int | None, int | None, int | None, int | None]


def _key(kind: str, vault_id: int | None, item_id: int | None, op_user_id: int | None, op_group_id: int | None) -> SpecKey:
    return (kind, vault_id, item_id, op_user_id, op_group_id)


def _spec_key(s: ActionSpec) -> SpecKey:
    return _key(
        s.kind, s.vault.pk if s.vault else None, s.item.pk if s.item else None, s.op_user.pk if s.op_user else None,
        s.op_group.pk if s.op_group else None,
    )


def covered(case: OffboardingCase, *, decided: bool = False) -> set[SpecKey]:
    """What the case's plans already propose: a rejected action inside a live plan was an
    approver's decision and is not proposed again; a rejected plan proposes nothing, unless
    `decided` (completion: the approvers' no is an answer, not a gap)."""
    live = [p.pk for p in case.plans() if decided or p.status != CleanupPlan.Status.REJECTED]
    return {
        _key(*row)
        for row in ProposedAction.objects.filter(plan_id__in=live).values_list(
            "kind", "vault_id", "item_id", "op_user_id", "op_group_id"
        )
    }


def remaining_specs(case: OffboardingCase, *, decided: bool = False) -> tuple[list[ActionSpec], list[str]]:
    """The plan's rotations, revocations and group removals that no plan of the case proposes
    yet, and the notes on lines that cannot become actions."""
    specs, skipped = rotation_specs(case_plan(case))
    specs += revocation_specs(case.op_user)
    specs += membership_specs(case.op_user)
    done = covered(case, decided=decided)
    return [s for s in specs if _spec_key(s) not in done], skipped


def create_actions(*, case: OffboardingCase, user: User, request: HttpRequest | None = None) -> Created:
    """A submitted plan for what the case's plans do not cover yet, within `user`'s vaults.

    The first plan becomes `case.plan` (again, when the earlier one was rejected); a later one,
    for what an earlier proposer could not cover (a lead's plan leaves out vaults they do not
    own), joins `case.further_plans`."""
    with transaction.atomic():
        case = OffboardingCase.objects.select_for_update().get(pk=case.pk)
        if not case.is_open:
            raise CaseRefused("The case is closed.")
        first = case.plan is None or case.plan.status == CleanupPlan.Status.REJECTED
        specs, skipped = remaining_specs(case)
        if not specs and not first:
            raise CaseRefused("Actions were already created for this case: see its cleanup plan.")
        specs, outside = scope.keep_in_scope(user, specs)
        skipped += outside
        if not specs:
            raise CaseRefused(
                "Nothing to turn into actions: " + ("; ".join(skipped) or "no secret to rotate, no direct grant and no group.")
            )
        plan = plans.create_plan(
            account=case.account, proposed_by=user, specs=specs, title=f"Offboarding of {case.person_label or case.op_user}"
        )
        plans.submit_plan(plan=plan, user=user, request=request)
        if first:
            case.plan = plan
            case.plan_created_at = timezone.now()
            case.save(update_fields=["plan", "plan_created_at"])
        else:
            case.further_plans.add(plan)
        audit.record(
            "offboarding.plan_created", actor=user, request=request, target=case,
            details={"cleanup_plan": plan.pk, "actions": len(specs), "skipped": len(skipped), "further": not first},
        )
    return Created(plan=plan, skipped=skipped)
