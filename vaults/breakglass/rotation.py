"""Propose the rotation that must follow a break-glass use, through the existing guided
rotation (vaults/cleanup/rotation.py): a ROTATE_SECRET action in the person's page draft, which
an approver (never the proposer) approves before anything reaches 1Password."""

from __future__ import annotations

from django.contrib.auth.models import User

from vaults.breakglass.models import EmergencyUse
from vaults.cleanup import page_proposals, plans
from vaults.cleanup.models import ProposedAction
from vaults.cleanup.page_proposals import Landed
from vaults.cleanup.specs import ActionSpec


class RotationRefused(Exception):
    """Nothing to propose; the message is for the person."""


def propose_rotation(*, event: EmergencyUse, user: User) -> Landed:
    """Raises `scope.OutsideVaultScope` for a lead outside the vault, RotationRefused otherwise."""
    item = event.item
    if item is None or event.vault is None:
        raise RotationRefused("The item of this use is no longer in OpenClaw: rotate it in 1Password directly.")
    if not item.is_active:
        raise RotationRefused("The item is archived or removed: there is nothing to rotate.")
    if not item.secret_fields.exists():
        raise RotationRefused("The item has no secret field OpenClaw knows of: rotate it in 1Password directly.")
    spec = ActionSpec(ProposedAction.Kind.ROTATE_SECRET, item.vault, item=item, phase=ProposedAction.Phase.ROTATE)
    try:
        return page_proposals.propose(user=user, specs=[spec])
    except plans.PlanError as error:
        raise RotationRefused(str(error)) from error
