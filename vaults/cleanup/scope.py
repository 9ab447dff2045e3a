"""Which vaults a person may propose cleanup on (issue #14, item 8).

1. Admins propose anywhere.
2. Everyone else who may propose (team leads) proposes only on vaults whose `Vault.owner` is
   them: the same ownership that routes access-review entries (compliance/reviews/review.py).
3. A vault with no owner is an admin's to clean up. Opening it to every lead would let any lead
   archive, rename or revoke in a vault nobody assigned to them.
4. An action is in scope only if *every* vault it touches is: a consolidation archives copies in
   other vaults, a move writes into its destination.
5. Removing a person from a group takes away every vault the group reaches, and OpenClaw sees a
   group's grants only on the vaults its sync identity can list: only an admin proposes it.

Personal and private vaults follow the same rule (an admin, or the lead an admin made their
owner); docs/security.md records what each role sees of them.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from openclaw_web.roles import Role, roles_of
from vaults.cleanup.actions import group_vaults
from vaults.cleanup.models import ProposedAction
from vaults.cleanup.specs import ActionSpec
from vaults.models import Account, Item, Vault


class OutsideVaultScope(Exception):
    """The person tried to propose on a vault they do not own; the message names the vault."""


def proposes_anywhere(user: AbstractBaseUser | AnonymousUser) -> bool:
    return Role.ADMIN in roles_of(user)


def is_in_scope(user: AbstractBaseUser | AnonymousUser, vault: Vault) -> bool:
    return proposes_anywhere(user) or (vault.owner_id is not None and vault.owner_id == user.pk)


def spec_vaults(spec: ActionSpec) -> list[Vault]:
    """Every vault the action would touch, the copies of a consolidation included, and every
    vault a group reaches for a membership removal."""
    if spec.kind == ProposedAction.Kind.REMOVE_GROUP_MEMBER:
        return group_vaults(spec.op_group.pk if spec.op_group else None)
    vaults: dict[int, Vault] = {}
    if spec.vault is not None:
        vaults[spec.vault.pk] = spec.vault
    if spec.destination_vault is not None:
        vaults[spec.destination_vault.pk] = spec.destination_vault
    copies = [int(i) for i in spec.params.get("candidate_item_ids", []) or spec.params.get("archive_item_ids", [])]
    for item in Item.objects.filter(pk__in=copies).select_related("vault"):
        vaults[item.vault.pk] = item.vault
    return list(vaults.values())


def _names(vaults: Iterable[Vault]) -> str:
    return ", ".join(sorted({f"“{v.name}”" for v in vaults}))


def refusal_message(vaults: Iterable[Vault]) -> str:
    names = _names(vaults)
    noun = "vaults" if "," in names else "vault"
    return (
        f"You do not own the {noun} {names}: team leads propose cleanup only on vaults they own; "
        "ask an admin, or the vault's owner."
    )


def check_vaults(user: AbstractBaseUser | AnonymousUser, vaults: Iterable[Vault]) -> None:
    outside = [v for v in vaults if not is_in_scope(user, v)]
    if outside:
        raise OutsideVaultScope(refusal_message(outside))


def group_refusal(user: AbstractBaseUser | AnonymousUser, spec: ActionSpec) -> str:
    """Why `user` may not propose this membership removal ("" when they may): rule 5. Only an
    admin may: OpenClaw sees a group's grants only on the vaults its sync identity can list, so no
    lead's ownership can be shown to cover everything a group reaches. A lead's leaver or end-date
    removal is proposed by an admin or by OpenClaw's expiry identity (two approvers) instead."""
    if spec.kind != ProposedAction.Kind.REMOVE_GROUP_MEMBER or proposes_anywhere(user):
        return ""
    group = spec.op_group
    name = f"“{group}”" if group is not None else "the group"
    return (
        f"Only an admin removes people from {name}: a group may also reach vaults OpenClaw does not see, "
        "so removing someone from it can take access no lead owns."
    )


def check_specs(user: AbstractBaseUser | AnonymousUser, specs: Iterable[ActionSpec]) -> None:
    """Refuse the whole proposal when any action touches a vault outside the person's scope:
    half a plan silently created would hide the refusal."""
    specs = list(specs)
    for spec in specs:
        if reason := group_refusal(user, spec):
            raise OutsideVaultScope(reason)
    check_vaults(user, [vault for spec in specs for vault in spec_vaults(spec)])


def keep_in_scope(
    user: AbstractBaseUser | AnonymousUser, specs: list[ActionSpec]
) -> tuple[list[ActionSpec], list[str]]:
    """(specs wholly inside the person's scope, a note per spec left out). The generated plan
    uses it: a duplicate whose copies lie partly in another lead's vault is left to an admin."""
    if proposes_anywhere(user):
        return specs, []
    kept: list[ActionSpec] = []
    notes: list[str] = []
    for spec in specs:
        if reason := group_refusal(user, spec):
            notes.append(reason)
            continue
        outside = [v for v in spec_vaults(spec) if not is_in_scope(user, v)]
        if outside:
            label = spec.finding.title if spec.finding is not None else spec.kind
            notes.append(f"{label}: touches {_names(outside)}, which you do not own")
        else:
            kept.append(spec)
    return kept, notes


def generation_vaults(
    *, user: AbstractBaseUser | AnonymousUser, account: Account, vaults: list[Vault] | None
) -> list[Vault] | None:
    """The vaults a generated plan covers: as chosen (None = every vault) for an admin; for a
    lead, their own vaults of the account, and a refusal if they picked someone else's."""
    if proposes_anywhere(user):
        return vaults
    if vaults:
        check_vaults(user, vaults)
        return vaults
    owned = list(Vault.objects.filter(account=account, owner_id=user.pk, removed_at__isnull=True))
    if not owned:
        raise OutsideVaultScope(f"You own no vault of {account.name}: an admin assigns vault owners on the vault page.")
    return owned
