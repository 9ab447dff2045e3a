"""Effective access: who can reach which vault, with which rights, directly or through groups.

One place answers the question for findings (over-permissioned users), item detail ("who can
reach it"), user detail and access reviews. Three queries (direct grants, group grants, the
groups' memberships) fetch every path; rows are merged per (user, vault) in one pass.

Removed vaults and removed groups grant nothing. Users that were removed or suspended are still
returned: a grant that outlives its holder is exactly what a review must see.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from vaults.models import Account, GroupMembership, OpUser, Vault, VaultGrant

# 1Password Teams accounts (and op 2.6 everywhere) print three broad permissions; Business
# accounts print granular names. Each broad name stands for every granular permission it
# includes, per 1Password's "About vault permissions"
# (https://developer.1password.com/docs/cli/vault-permissions), so a rule can ask one question
# ("can export?") whatever the account type: a Teams editor *can* export, print and share.
LEGACY_PERMISSIONS: dict[str, frozenset[str]] = {
    "allow_viewing": frozenset({"view_items", "view_and_copy_passwords", "view_item_history"}),
    "allow_editing": frozenset({
        "create_items", "edit_items", "archive_items", "delete_items", "import_items", "export_items",
        "copy_and_share_items", "print_items",
    }),
    "allow_managing": frozenset({"manage_vault"}),
}

# Rights beyond what using the secrets in a vault needs (findings rule over_permissioned/2).
ELEVATED_PERMISSIONS: frozenset[str] = frozenset({"manage_vault", "export_items"})


def normalise_permissions(names: Iterable[object]) -> frozenset[str]:
    """Lower-cased granular permission names; a broad `allow_*` name becomes every granular
    permission it includes. Granular names pass through unchanged."""
    listed = tuple(names)
    try:
        return _normalised(listed)
    except TypeError:  # an unhashable entry (malformed JSON): skipped below like any non-string
        return _normalised(tuple(name for name in listed if isinstance(name, str)))


# A grant's list is one of a few dozen combinations: 1,900 grants decoded each time cost ~0.1 s of
# a findings run (bench/bench_findings.py). The cache holds lists of permission names only.
@lru_cache(maxsize=1024)
def _normalised(names: tuple[object, ...]) -> frozenset[str]:
    result: set[str] = set()
    for raw in names:
        if not isinstance(raw, str):
            continue
        name = raw.strip().lower()
        if name:
            result |= LEGACY_PERMISSIONS.get(name, {name})
    return frozenset(result)


def user_is_inactive(user: OpUser) -> bool:
    """Removed, or in a state op reports as not able to sign in (SUSPENDED, TRANSFER_SUSPENDED,
    DELETED, or a state unknown to this code): see `OpUser.state_class`."""
    return user.state_class == "inactive"


@dataclass(frozen=True)
class AccessRow:
    user: OpUser
    vault: Vault
    permissions: frozenset[str]  # union over every path
    via_direct: bool
    via_groups: tuple[str, ...]  # group names, sorted
    direct_permissions: frozenset[str] = field(default_factory=frozenset)

    @property
    def elevated_direct(self) -> frozenset[str]:
        return self.direct_permissions & ELEVATED_PERMISSIONS


@dataclass
class _Paths:
    permissions: set[str] = field(default_factory=set)
    direct: frozenset[str] | None = None
    groups: set[str] = field(default_factory=set)


def _grant_filters(account: Account, vault: Vault | None) -> dict[str, object]:
    filters: dict[str, object] = {"vault__account": account, "vault__removed_at__isnull": True}
    if vault is not None:
        filters["vault"] = vault
    return filters


def effective_access(account: Account, *, vault: Vault | None = None, user: OpUser | None = None) -> list[AccessRow]:
    """Every (user, vault) pair with any access in `account`, optionally narrowed to one vault
    and/or one user, sorted by vault name then user name.

    1. Direct grants: VaultGrant rows with a user.
    2. Group grants: VaultGrant rows with a live group, joined to that group's memberships.
    3. Merge per (user, vault): union of permissions, direct rights kept apart, group names.
    """
    paths: dict[tuple[int, int], _Paths] = {}
    direct = VaultGrant.objects.filter(user__isnull=False, **_grant_filters(account, vault))
    if user is not None:
        direct = direct.filter(user=user)
    for user_id, vault_id, permissions in direct.values_list("user_id", "vault_id", "permissions"):
        rights = normalise_permissions(permissions or [])
        entry = paths.setdefault((user_id, vault_id), _Paths())
        entry.permissions |= rights
        entry.direct = rights

    # A group's grants are read and normalised once, not once per member: joined in SQL they were
    # ~12,000 rows, each with its permissions decoded, at 1,000 people in 40 groups.
    group_grants = VaultGrant.objects.filter(
        group__isnull=False, group__removed_at__isnull=True, **_grant_filters(account, vault)
    )
    if user is not None:  # one person (their page, an offboarding): only their groups' grants
        group_grants = group_grants.filter(group__memberships__user=user)
    grants_of: dict[int, list[tuple[int, str, frozenset[str]]]] = {}
    for group_id, vault_id, group_name, permissions in group_grants.values_list(
        "group_id", "vault_id", "group__name", "permissions"
    ):
        grants_of.setdefault(group_id, []).append((vault_id, group_name, normalise_permissions(permissions or [])))
    members = (
        GroupMembership.objects.filter(group_id__in=sorted(grants_of)) if grants_of else GroupMembership.objects.none()
    )
    if user is not None:
        members = members.filter(user=user)
    for user_id, group_id in members.values_list("user_id", "group_id"):
        for vault_id, group_name, rights in grants_of[group_id]:
            entry = paths.setdefault((user_id, vault_id), _Paths())
            entry.permissions |= rights
            entry.groups.add(group_name)

    if not paths:
        return []
    users = {u.pk: u for u in OpUser.objects.filter(account=account, pk__in={u for u, _ in paths})}
    vaults = {v.pk: v for v in Vault.objects.filter(account=account, pk__in={v for _, v in paths})}
    rows = [
        AccessRow(
            user=users[user_id],
            vault=vaults[vault_id],
            permissions=frozenset(entry.permissions),
            via_direct=entry.direct is not None,
            via_groups=tuple(sorted(entry.groups)),
            direct_permissions=entry.direct or frozenset(),
        )
        for (user_id, vault_id), entry in paths.items()
        if user_id in users and vault_id in vaults
    ]
    # Each name folded once, not once per row: 11,500 rows sorted with str(user) per comparison
    # key cost ~0.15 s of a findings run.
    vault_order = {pk: (v.name.casefold(), pk) for pk, v in vaults.items()}
    user_order = {pk: (str(u).casefold(), pk) for pk, u in users.items()}
    rows.sort(key=lambda r: (vault_order[r.vault.pk], user_order[r.user.pk]))
    return rows


def access_pairs(account: Account) -> set[tuple[int, int]]:
    """Distinct (user id, vault id) pairs with any access, computed as one UNION in the database."""
    direct = VaultGrant.objects.filter(user__isnull=False, **_grant_filters(account, None)).values_list(
        "user_id", "vault_id"
    )
    via_group = (
        GroupMembership.objects.filter(
            group__removed_at__isnull=True,
            group__grants__isnull=False,
            group__grants__vault__account=account,
            group__grants__vault__removed_at__isnull=True,
        )
        .values_list("user_id", "group__grants__vault_id")
        .order_by()
    )
    return set(direct.order_by().union(via_group))


def vault_counts_by_user(account: Account) -> dict[int, int]:
    """Number of vaults each user (by OpUser pk) can reach. Users with none are absent."""
    counts: dict[int, int] = {}
    for user_id, _vault_id in access_pairs(account):
        counts[user_id] = counts.get(user_id, 0) + 1
    return counts


def user_counts_by_vault(account: Account) -> dict[int, int]:
    """Number of users (any state) that can reach each vault (by Vault pk)."""
    counts: dict[int, int] = {}
    for _user_id, vault_id in access_pairs(account):
        counts[vault_id] = counts.get(vault_id, 0) + 1
    return counts
