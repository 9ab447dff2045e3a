"""The access a leaver had before they left, for the "could copy" part of their plan.

A leaver deleted or suspended in 1Password has no grants after the next sync, yet every secret
they could copy until then still has to be rotated. Two sources, merged per vault:

1. The snapshot taken when the case opened (`OffboardingCase.access_at_open`): what a person
   marked as leaving could reach, or what the sync saw when it opened the case.
2. The history spans at the person's last active moment (just before the last non-inactive
   UserSpan closed): the sync that first sees a deleted person may already show the grants gone,
   so the snapshot alone would be empty for the commonest leaver.

Vault op ids, permission names and group names only.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from vaults.access import AccessRow, normalise_permissions
from vaults.history import open_at
from vaults.models import GrantSpan, GroupSpan, MembershipSpan, OpUser, UserSpan, VaultSpan
from vaults.models.access import classify_user_state

_JUST_BEFORE = datetime.timedelta(microseconds=1)


@dataclass
class PastAccess:
    vault_op_id: str
    permissions: set[str] = field(default_factory=set)
    direct: bool = False
    groups: set[str] = field(default_factory=set)

    def merge(self, other: PastAccess) -> None:
        self.permissions |= other.permissions
        self.direct = self.direct or other.direct
        self.groups |= other.groups


def snapshot(rows: list[AccessRow]) -> list[dict[str, Any]]:
    """The JSON kept on a case when it opens (sorted, so the same access stores the same list)."""
    return [
        {"vault": row.vault.op_id, "permissions": sorted(row.permissions), "direct": row.via_direct,
         "groups": sorted(row.via_groups)}
        for row in sorted(rows, key=lambda r: r.vault.op_id)
    ]


def from_snapshot(stored: list[dict[str, Any]] | None) -> dict[str, PastAccess]:
    found: dict[str, PastAccess] = {}
    for entry in stored or []:
        vault = str(entry.get("vault", ""))
        if not vault:
            continue
        found.setdefault(vault, PastAccess(vault)).merge(
            PastAccess(vault, set(normalise_permissions(entry.get("permissions") or [])), bool(entry.get("direct")),
                       {str(g) for g in entry.get("groups") or []})
        )
    return found


def last_active_moment(op_user: OpUser) -> datetime.datetime | None:
    """Just before the person's last active (or pending) span closed; None while it is still
    open (they are active as far as history knows) or when history never saw them active."""
    ends: list[datetime.datetime] = [
        valid_to
        for state, valid_to in UserSpan.objects.filter(
            account_id=op_user.account_id, op_id=op_user.op_id, removed=False, valid_to__isnull=False
        ).values_list("state", "valid_to")
        if valid_to is not None and classify_user_state(state) != "inactive"
    ]
    return max(ends) - _JUST_BEFORE if ends else None


def from_history(op_user: OpUser) -> dict[str, PastAccess]:
    """Per vault op id, the person's access at their last active moment, by the merge rules of
    `effective_access` (direct grants, plus grants to live groups they were a member of)."""
    moment = last_active_moment(op_user)
    if moment is None:
        return {}
    spans = {"account_id": op_user.account_id}
    when = open_at(moment)
    live_vaults = set(VaultSpan.objects.filter(when, removed=False, **spans).values_list("op_id", flat=True))
    found: dict[str, PastAccess] = {}

    def add(vault: str, access: PastAccess) -> None:
        if vault in live_vaults:
            found.setdefault(vault, PastAccess(vault)).merge(access)

    for vault, permissions in GrantSpan.objects.filter(when, user_op_id=op_user.op_id, **spans).values_list(
        "vault_op_id", "permissions"
    ):
        add(vault, PastAccess(vault, set(normalise_permissions(permissions or [])), direct=True))
    member_of = set(MembershipSpan.objects.filter(when, user_op_id=op_user.op_id, **spans).values_list(
        "group_op_id", flat=True
    ))
    names = dict(GroupSpan.objects.filter(when, op_id__in=member_of, removed=False, **spans).values_list("op_id", "name"))
    for group, vault, permissions in GrantSpan.objects.filter(when, group_op_id__in=list(names), **spans).values_list(
        "group_op_id", "vault_op_id", "permissions"
    ):
        add(vault, PastAccess(vault, set(normalise_permissions(permissions or [])), groups={names[group]}))
    return found


def before_leaving(op_user: OpUser, stored: list[dict[str, Any]] | None) -> dict[str, PastAccess]:
    """Snapshot and history merged, per vault op id."""
    found = from_snapshot(stored)
    for vault, access in from_history(op_user).items():
        found.setdefault(vault, PastAccess(vault)).merge(access)
    return found
