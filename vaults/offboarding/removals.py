"""Proposing the removal of a person's vault access as approval-gated cleanup actions.

1. Direct grants become `revoke_user` actions (the whole grant: a leaver keeps nothing).
2. Memberships of live groups become `remove_group_member` actions, when the whole access goes
   (a leaver, a whole-access end date): leaving a group takes every vault it reaches, so it is
   never proposed to end access to some vaults only.
3. Never for OpenClaw's own sync identity (the sync would stop), nor for service accounts (they
   are not people who leave; a person retires them), nor for the built-in group every member is
   in (EVERYONE_GROUPS: a person leaves it only when suspended or deleted).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import transaction

from compliance import audit
from vaults.access import normalise_permissions
from vaults.cleanup import plans
from vaults.cleanup.models import CleanupPlan, ProposedAction
from vaults.cleanup.specs import ActionSpec
from vaults.findings.sync_identity import is_sync_identity
from vaults.models import GroupMembership, OpGroup, OpUser, Vault, VaultGrant

# 1Password puts every member in it and lets nobody leave it but by suspension or deletion.
EVERYONE_GROUPS = frozenset({"Team Members"})
SERVICE_ACCOUNT = "SERVICE_ACCOUNT"


def revocation_specs(op_user: OpUser, *, vaults: Iterable[Vault] | None = None) -> list[ActionSpec]:
    """One `revoke_user` spec per direct grant on a live vault (optionally only in `vaults`)."""
    if is_sync_identity(op_user, op_user.account):
        return []  # revoking OpenClaw's own identity would stop every sync
    grants = VaultGrant.objects.filter(user=op_user, vault__removed_at__isnull=True).select_related("vault")
    if vaults is not None:
        grants = grants.filter(vault__in=list(vaults))
    specs = []
    for grant in sorted(grants, key=lambda g: (g.vault.name.casefold(), g.pk)):
        permissions = sorted(normalise_permissions(grant.permissions or []))
        if permissions:
            specs.append(
                ActionSpec(
                    ProposedAction.Kind.REVOKE_USER, grant.vault, op_user=op_user,
                    params={"permissions": permissions}, phase=ProposedAction.Phase.PERMISSIONS,
                )
            )
    return specs


def membership_specs(op_user: OpUser, *, groups: Iterable[OpGroup] | None = None) -> list[ActionSpec]:
    """One `remove_group_member` spec per membership of a live group (only of `groups`, when
    given): rules 2 and 3."""
    if is_sync_identity(op_user, op_user.account) or op_user.user_type.upper() == SERVICE_ACCOUNT:
        return []
    memberships = (
        GroupMembership.objects.filter(user=op_user, group__removed_at__isnull=True)
        .exclude(group__name__in=EVERYONE_GROUPS)
        .select_related("group")
    )
    if groups is not None:
        memberships = memberships.filter(group__in=list(groups))
    return [
        ActionSpec(
            ProposedAction.Kind.REMOVE_GROUP_MEMBER, None, op_user=op_user, op_group=m.group,
            phase=ProposedAction.Phase.PERMISSIONS,
        )
        for m in sorted(memberships, key=lambda m: (m.group.name.casefold(), m.group.pk))
    ]


@transaction.atomic
def propose_access_removals(
    op_user: OpUser, *, proposed_by: User, reason: str, vaults: Iterable[Vault] | None = None,
    groups: Iterable[OpGroup] = (),
) -> CleanupPlan | None:
    """A submitted plan revoking every direct grant of `op_user` (in `vaults` only, when given)
    and removing them from `groups` (the caller passes groups only when the whole access ends);
    None when there is nothing to remove. Approvers decide as for any plan; the proposer never
    approves their own (vaults/cleanup/approval.py)."""
    specs = revocation_specs(op_user, vaults=vaults)
    groups = list(groups)
    if groups:
        specs += membership_specs(op_user, groups=groups)
    if not specs:
        return None
    plan = plans.create_plan(
        account=op_user.account, proposed_by=proposed_by, specs=specs,
        title=f"Remove access of {op_user.email or op_user.name or op_user.op_id}: {reason}",
    )
    plans.submit_plan(plan=plan, user=proposed_by)
    audit.record(
        "offboarding.access_removals_proposed", actor=proposed_by, target=plan,
        details={"op_user": op_user.op_id, "reason": reason[:300], "actions": len(specs)},
    )
    return plan
