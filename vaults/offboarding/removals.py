"""Proposing the removal of a person's vault access as approval-gated cleanup actions.

Direct grants become `revoke_user` actions (the whole grant: a leaver keeps nothing). Group
memberships have no cleanup action kind: they are listed on the offboarding case as manual
removals and count as done when a sync no longer shows the membership (completion.py).
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
from vaults.models import OpUser, Vault, VaultGrant


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


@transaction.atomic
def propose_access_removals(
    op_user: OpUser, *, proposed_by: User, reason: str, vaults: Iterable[Vault] | None = None
) -> CleanupPlan | None:
    """A submitted plan revoking every direct grant of `op_user` (in `vaults` only, when given);
    None when there is nothing to revoke. Approvers decide as for any plan; the proposer never
    approves their own (vaults/cleanup/approval.py)."""
    specs = revocation_specs(op_user, vaults=vaults)
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
