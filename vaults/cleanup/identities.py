"""Which configured identity can run an action, and the `op` client for it.

The rules 1Password enforces, as we model them:
1. A service account never sees Personal, Private or Employee vaults, so it can do nothing there.
2. A service account can change grants (revoke a user's or group's access) only on vaults it
   created.
3. An account may name a privileged identity (`Account.privileged_token_env`, an administrator's
   session token on the worker). It can act on every shared vault, but not inside someone's
   Personal/Private vault either.
4. A service account cannot manage groups at all: removing a person from a group runs as the
   privileged identity when one is configured, else it is a manual step.
5. Where no configured identity can run an action it becomes a MANUAL STEP: the plan shows an
   administrator the exact command, a person marks it done, and the next sync verifies it.

"Created by the service account": `op vault list/get` does not print a vault's creator, so sync
cannot store it (`VaultRecord` has no such field) and `Vault.created_by_op_id` is usually blank.
We therefore trust only positive knowledge: a vault counts as created by the service account when
`created_by_op_id` equals `Account.service_account_id` (both non-empty). A blank creator means
"not known to be ours", so grant changes go to the privileged identity or become manual steps.
If the service account is still refused (403) at execution, the action becomes a manual step
instead of failing (see execute.py): 1Password's answer beats our belief.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass

from django.db.models import Q

from vaults.access import normalise_permissions
from vaults.cleanup.models import ProposedAction
from vaults.findings.sync_identity import sync_identity_op_id
from vaults.models import Account, GroupMembership, OpUser, Vault, VaultGrant
from vaults.op import OpClient
from vaults.op_settings import op_client

Kind = ProposedAction.Kind
Identity = ProposedAction.Identity

PERSONAL_VAULT_TYPES = frozenset({"PERSONAL", "PRIVATE", "EMPLOYEE"})
PERSONAL_VAULT_NAMES = frozenset({"personal", "private", "employee"})
# What an identity needs in a vault to create the moved copy there, and to remove it from the source.
MOVE_NEEDS_IN_DESTINATION = "create_items"
MOVE_NEEDS_IN_SOURCE = "edit_items"


class Need(enum.Enum):
    """What an action kind needs from the identity that runs it."""

    ITEM_WRITE = "edit items in the vault"
    GRANT_CHANGE = "change who can access the vault"
    GROUP_MEMBERSHIP = "change who is in a group"


NEEDS: dict[str, Need] = {
    Kind.ARCHIVE_ITEM: Need.ITEM_WRITE,
    Kind.RENAME_ITEM: Need.ITEM_WRITE,
    Kind.SET_TAGS: Need.ITEM_WRITE,
    Kind.SET_URL: Need.ITEM_WRITE,
    Kind.MOVE_ITEM: Need.ITEM_WRITE,
    Kind.CONSOLIDATE_DUPLICATES: Need.ITEM_WRITE,
    Kind.ROTATE_SECRET: Need.ITEM_WRITE,
    Kind.REVOKE_USER: Need.GRANT_CHANGE,
    Kind.REVOKE_GROUP: Need.GRANT_CHANGE,
    Kind.REMOVE_GROUP_MEMBER: Need.GROUP_MEMBERSHIP,
}


@dataclass(frozen=True)
class IdentityChoice:
    identity: str
    reason: str


def is_personal_vault(vault: Vault) -> bool:
    return (
        vault.vault_type.upper() in PERSONAL_VAULT_TYPES
        or vault.classification == Vault.Classification.PERSONAL
        or vault.name.strip().lower() in PERSONAL_VAULT_NAMES
    )


def created_by_service_account(vault: Vault, account: Account) -> bool:
    return bool(vault.created_by_op_id and account.service_account_id) and (
        vault.created_by_op_id == account.service_account_id
    )


def choose_identity(*, kind: str, account: Account, vaults: list[Vault]) -> IdentityChoice:
    """The identity that will run an action of `kind` touching `vaults` (a move touches two)."""
    need = NEEDS[kind]
    personal = [v.name for v in vaults if is_personal_vault(v)]
    if personal:
        return IdentityChoice(
            Identity.MANUAL,
            f"{personal[0]!r} is a personal vault: no configured identity can see it; its owner must do this.",
        )
    if need is Need.ITEM_WRITE:
        return IdentityChoice(Identity.SERVICE_ACCOUNT, "The service account can edit items in shared vaults.")
    if need is Need.GROUP_MEMBERSHIP:
        return _group_membership_identity(account)
    if all(created_by_service_account(v, account) for v in vaults):
        return IdentityChoice(
            Identity.SERVICE_ACCOUNT, "The service account created this vault, so it may change its grants."
        )
    if account.privileged_token_env:
        return IdentityChoice(
            Identity.PRIVILEGED,
            f"The service account did not create this vault; the privileged identity "
            f"({account.privileged_token_env}) runs it.",
        )
    return IdentityChoice(
        Identity.MANUAL,
        "The service account can change grants only on vaults it created, and no privileged identity "
        "is configured: an administrator runs the command.",
    )


def _group_membership_identity(account: Account) -> IdentityChoice:
    if account.privileged_token_env:
        return IdentityChoice(
            Identity.PRIVILEGED,
            f"Service accounts cannot manage groups; the privileged identity ({account.privileged_token_env}) runs it.",
        )
    return IdentityChoice(
        Identity.MANUAL,
        "Service accounts cannot manage groups and no privileged identity is configured: "
        "an administrator removes the person in 1Password.",
    )


def sync_identity_rights(account: Account, vault: Vault) -> frozenset[str] | None:
    """The permissions OpenClaw's own identity holds on `vault` (direct and through groups), or
    None when the stored grants cannot tell (no sync yet, or no grant of it recorded anywhere)."""
    own = sync_identity_op_id(account)
    me = OpUser.objects.filter(account=account, op_id=own).first() if own else None
    if me is None:
        return None
    groups = GroupMembership.objects.filter(user=me, group__removed_at__isnull=True).values("group_id")
    mine = VaultGrant.objects.filter(Q(user=me) | Q(group_id__in=groups))
    if not mine.exists():
        return None
    rights: set[str] = set()
    for permissions in mine.filter(vault=vault).values_list("permissions", flat=True):
        rights |= normalise_permissions(permissions or [])
    return frozenset(rights)


def choose_move_identity(account: Account, *, source: Vault, destination: Vault) -> IdentityChoice:
    """choose_identity for a move, narrowed by what the sync stored: where OpenClaw's own identity
    holds no right to create items in the destination (or edit them in the source), a person moves
    it. Used when the move is proposed and again when the proposer edits its destination."""
    choice = choose_identity(kind=Kind.MOVE_ITEM, account=account, vaults=[source, destination])
    if choice.identity != Identity.SERVICE_ACCOUNT:
        return choice
    for vault, needed in ((destination, MOVE_NEEDS_IN_DESTINATION), (source, MOVE_NEEDS_IN_SOURCE)):
        rights = sync_identity_rights(account, vault)
        if rights is not None and needed not in rights:
            return IdentityChoice(
                Identity.MANUAL,
                f"The service account has no {needed.replace('_', ' ')} right in “{vault.name}”: "
                "an administrator moves the item in 1Password (Move to vault…), and the next sync verifies it.",
            )
    return choice


class IdentityUnavailable(Exception):
    """The worker lacks the token for the chosen identity; the message says what to set."""


def token_env_for(account: Account, identity: str) -> str:
    if identity == Identity.PRIVILEGED:
        return account.privileged_token_env
    return account.token_env


def client_for_identity(account: Account, identity: str) -> OpClient:
    env_name = token_env_for(account, identity)
    token = os.environ.get(env_name, "") if env_name else ""
    if not token:
        raise IdentityUnavailable(
            f"The worker has no token for the {Identity(identity).label.lower()}: set the environment "
            f"variable {env_name or '(none configured)'} on the worker (it is never stored)."
        )
    return op_client(token)
