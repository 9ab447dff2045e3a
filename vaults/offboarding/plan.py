"""A leaver's rotation and removal plan: which secrets to rotate, in which order, and why; which
access to remove. One builder feeds the case page, the API and `manage.py offboarding_plan`.

1. Used: the person's item-usage events in the window (raw events, plus the daily counts of days
   whose raw events retention already deleted), counted per item and action, with the last use.
2. Could copy: items with a secret field in every vault the person reaches now with a right that
   shows or copies secrets (`view_and_copy_passwords`; Teams' `allow_viewing` includes it),
   directly or through groups, and in every vault they could copy from until they left (`past`:
   a deleted leaver has no grants left, but still has what they copied). Removed items, archived
   items and removed vaults are left out.
3. Order: production vaults first; then by how the secret was touched (exported, revealed,
   copied or shared, opened for editing or fetched, filled, other use) before mere access; then
   the latest use first, then vault and title.
4. Removals: the person's direct vault grants and their group memberships.

Metadata only: titles, vault names, counts, dates and permission names — never a value, a
notes text or a fingerprint.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, Max, OuterRef, Sum

from openclaw_web.text import plural
from vaults.access import effective_access, normalise_permissions
from vaults.models import GroupMembership, Item, ItemUsage, OpUser, SecretField, Vault, VaultGrant
from vaults.offboarding.past_access import PastAccess
from vaults.permission_labels import permission_labels
from vaults.usage_audit import summarised_days
from vaults.usage_filter import UsageFilter

# How an action touched the secret: (rank, past-tense words). A lower rank is rotated first: an
# export or a reveal put the value in front of the person; a fill only typed it into a page.
TOUCH: dict[str, tuple[int, str]] = {
    "export": (0, "exported"),
    "reveal": (1, "revealed"),
    "secure-copy": (2, "copied"),
    "share": (2, "shared"),
    "enter-item-edit-mode": (3, "opened for editing"),
    "server-fetch": (3, "fetched through a client"),
    "server-create": (3, "created through a client"),
    "server-update": (3, "updated through a client"),
    "fill": (4, "filled"),
    "select-sso-provider": (5, "signed in with SSO"),
}
OTHER_USE = (5, "used")
PRODUCTION = Vault.Classification.PRODUCTION.value
ACCESS_ONLY_RANK = 6
# The rights that let a person read a secret out of an item (vaults/access.py normalises
# Teams' broad names into these).
COPY_RIGHTS: frozenset[str] = frozenset({"view_and_copy_passwords"})


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ cost a fifth of a 24,000-line plan
class PlanLine:
    item_id: int | None  # the Item row, when the inventory still has it
    item_op_id: str
    title: str
    category: str
    vault_id: int | None
    vault_op_id: str
    vault_name: str
    classification: str
    uses: tuple[tuple[str, int], ...]  # (action, count), strongest touch first
    last_used: datetime.datetime | None
    access: str  # "direct grant", "group “Ops”", "direct grant and group “Ops”", or "" (no access now)
    rights: tuple[str, ...]  # permission labels, when the person can still reach the vault
    touch_rank: int
    reason: str

    @property
    def production(self) -> bool:
        return self.classification == Vault.Classification.PRODUCTION

    @property
    def total_uses(self) -> int:
        return sum(count for _, count in self.uses)

    def as_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item_op_id,
            "title": self.title,
            "category": self.category,
            "vault": self.vault_name,
            "vault_id": self.vault_op_id,
            "classification": self.classification,
            "production": self.production,
            "uses": {action: count for action, count in self.uses},
            "last_use": self.last_used.isoformat() if self.last_used else None,
            "access": self.access,
            "rights": list(self.rights),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Removal:
    kind: str  # "direct_grant" | "group_membership"
    target_id: int  # VaultGrant or GroupMembership pk
    name: str  # vault name or group name
    op_id: str  # vault or group op id
    permissions: tuple[str, ...]  # labels; for a membership, what the group grants is in `reason`
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "vault" if self.kind == "direct_grant" else "group": self.name,
            "id": self.op_id,
            "permissions": list(self.permissions),
            "reason": self.reason,
        }


@dataclass
class OffboardingPlan:
    op_user: OpUser
    since: datetime.datetime
    until: datetime.datetime
    lines: list[PlanLine] = field(default_factory=list)
    removals: list[Removal] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        user = self.op_user
        return {
            "person": {"email": user.email, "name": user.name, "id": user.op_id, "state": user.state_label or user.state},
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "items": [line.as_dict() for line in self.lines],
            "removals": [removal.as_dict() for removal in self.removals],
        }


def _touch(action: str) -> tuple[int, str]:
    return TOUCH.get(action, OTHER_USE)


@dataclass
class _Usage:
    vault_op_id: str
    counts: dict[str, int] = field(default_factory=dict)
    last: datetime.datetime | None = None


def _usage(op_user: OpUser, since: datetime.datetime, until: datetime.datetime) -> dict[str, _Usage]:
    """Per item op id: counts per action and the last use in [since, until].

    Raw events answer every day that still has them; the daily counts answer the days before the
    account's first raw event (deleted by retention), with the day's end as the last use."""
    found: dict[str, _Usage] = {}
    raw = ItemUsage.objects.filter(
        account_id=op_user.account_id, user_op_id=op_user.op_id, timestamp__gte=since, timestamp__lte=until
    )
    for item_op_id, vault_op_id, action, n, last in (
        raw.values_list("item_op_id", "vault_op_id", "action").annotate(n=Count("id"), last=Max("timestamp")).order_by()
    ):
        entry = found.setdefault(item_op_id, _Usage(vault_op_id))
        entry.counts[action] = entry.counts.get(action, 0) + n
        entry.last = max(filter(None, [entry.last, last]))
    days = UsageFilter(account=op_user.account, person=op_user, start=since.astimezone(datetime.UTC).date(),
                       end=until.astimezone(datetime.UTC).date())  # fmt: skip
    for item_op_id, vault_op_id, action, n, last_day in (
        summarised_days(days).values_list("item_op_id", "vault_op_id", "action").annotate(n=Sum("count"), last=Max("day")).order_by()
    ):
        entry = found.setdefault(item_op_id, _Usage(vault_op_id))
        entry.counts[action] = entry.counts.get(action, 0) + int(n)
        day_end = datetime.datetime.combine(last_day, datetime.time.max, tzinfo=datetime.UTC)
        entry.last = max(filter(None, [entry.last, day_end]))
    return found


def _access_words(via_direct: bool, groups: Iterable[str]) -> str:
    parts = ["direct grant"] if via_direct else []
    parts += [f"group “{g}”" for g in groups]
    return " and ".join(parts)


def _used_reason(uses: list[tuple[str, int]], last: datetime.datetime | None) -> str:
    words = ", ".join(f"{_touch(a)[1]} {plural(n, 'time', 'times')}" for a, n in uses)
    when = f", last on {last.date().isoformat()}" if last else ""
    return f"The person {words}{when}."


def _copy_reason(access: str, rights: tuple[str, ...]) -> str:
    return f"Not used in the window, but the person could copy it: {', '.join(rights)} through {access}."


def build_plan(
    op_user: OpUser,
    *,
    since: datetime.datetime,
    until: datetime.datetime,
    vaults: Iterable[Vault] | None = None,
    past: dict[str, PastAccess] | None = None,
) -> OffboardingPlan:
    """The plan for `op_user` over [since, until], optionally only for items in `vaults`.

    `past` (vault op id -> access before leaving, past_access.py) adds the vaults the person could
    copy from until they left and cannot reach now: a deleted leaver's grants are gone, their
    copies of the secrets are not."""
    account = op_user.account
    vault_filter = {v.pk for v in vaults} if vaults is not None else None
    live_vaults = {v.op_id: v for v in Vault.objects.filter(account=account, removed_at__isnull=True)}
    if vault_filter is not None:
        live_vaults = {op_id: v for op_id, v in live_vaults.items() if v.pk in vault_filter}

    usage = {op_id: u for op_id, u in _usage(op_user, since, until).items() if u.vault_op_id in live_vaults}
    access = {row.vault.pk: row for row in effective_access(account, user=op_user) if row.vault.op_id in live_vaults}
    copyable_vaults = [pk for pk, row in access.items() if row.permissions & COPY_RIGHTS]
    earlier = {
        live_vaults[op_id].pk: before
        for op_id, before in (past or {}).items()
        if op_id in live_vaults and live_vaults[op_id].pk not in access and before.permissions & COPY_RIGHTS
    }
    copyable_vaults += list(earlier)

    # One read of the items of every vault concerned (used in, or copyable from), keyed by (vault,
    # op id): an item moved between vaults has another op id, so usage of the old one stays with the
    # vault it was used in. One range scan per vault beat an IN list of thousands of used op ids
    # (bench/bench_offboarding.py: 5,000 uses over 24,000 reachable items).
    copyable = set(copyable_vaults)
    read = copyable | {live_vaults[u.vault_op_id].pk for u in usage.values()}
    rows = (
        Item.objects.filter(vault_id__in=read)
        .annotate(has_secret=Exists(SecretField.objects.filter(item_id=OuterRef("pk"))))
        .values_list("pk", "op_id", "vault_id", "title", "category", "removed_at", "archived", "has_secret")
    )
    by_key: dict[tuple[int, str], tuple[int, str, str, bool]] = {}
    secret_items: list[tuple[int, str, int, str, str]] = []
    for pk, op_id, vault_id, title, category, removed, archived, has_secret in rows.order_by():
        live = removed is None and not archived
        if op_id in usage:
            by_key[(vault_id, op_id)] = (pk, title, category, live)
        if live and has_secret and vault_id in copyable:
            secret_items.append((pk, op_id, vault_id, title, category))

    # Per reachable vault, once: how the person reaches it, the rights' labels, the copy reason.
    paths: dict[int, tuple[str, tuple[str, ...], str]] = {}
    for vault_pk, row in access.items():
        words = _access_words(row.via_direct, row.via_groups)
        copy_rights = tuple(permission_labels(row.permissions & COPY_RIGHTS))
        paths[vault_pk] = (words, tuple(permission_labels(row.permissions)), _copy_reason(words, copy_rights))
    for vault_pk, before in earlier.items():
        words = f"{_access_words(before.direct, sorted(before.groups)) or 'access'}, until they left"
        copy_rights = tuple(permission_labels(before.permissions & COPY_RIGHTS))
        paths[vault_pk] = (words, tuple(permission_labels(before.permissions)), _copy_reason(words, copy_rights))
    lines: list[PlanLine] = []
    seen: set[tuple[int, str]] = set()
    for item_op_id, entry in usage.items():
        vault = live_vaults[entry.vault_op_id]
        known = by_key.get((vault.pk, item_op_id))
        if known is not None and not known[3]:
            continue  # archived or deleted since: nothing left to rotate in 1Password
        uses = sorted(entry.counts.items(), key=lambda kv: (_touch(kv[0])[0], -kv[1], kv[0]))
        path, rights, _ = paths.get(vault.pk, ("", (), ""))
        lines.append(
            PlanLine(
                item_id=known[0] if known else None,
                item_op_id=item_op_id,
                title=known[1] if known else item_op_id,
                category=known[2] if known else "",
                vault_id=vault.pk,
                vault_op_id=vault.op_id,
                vault_name=vault.name,
                classification=vault.classification,
                uses=tuple(uses),
                last_used=entry.last,
                access=path,
                rights=rights,
                touch_rank=_touch(uses[0][0])[0],
                reason=_used_reason(uses, entry.last),
            )
        )
        seen.add((vault.pk, item_op_id))
    vault_by_pk = {v.pk: v for v in live_vaults.values()}
    for pk, op_id, vault_id, title, category in secret_items:
        if (vault_id, op_id) in seen:
            continue
        vault = vault_by_pk[vault_id]
        path, rights, reason = paths[vault_id]
        lines.append(
            PlanLine(
                item_id=pk, item_op_id=op_id, title=title, category=category, vault_id=vault_id,
                vault_op_id=vault.op_id, vault_name=vault.name, classification=vault.classification, uses=(),
                last_used=None, access=path, rights=rights, touch_rank=ACCESS_ONLY_RANK, reason=reason,
            )
        )
    lines.sort(key=_line_order)
    return OffboardingPlan(
        op_user=op_user, since=since, until=until, lines=lines,
        removals=removals_for(op_user, vaults=list(vault_by_pk.values()) if vault_filter is not None else None),
    )


def _line_order(line: PlanLine) -> tuple[Any, ...]:
    last = -line.last_used.timestamp() if line.last_used is not None else 0.0
    return (line.classification != PRODUCTION, line.touch_rank, last, line.vault_name.casefold(), line.title.casefold(),
            line.item_op_id)


def removals_for(op_user: OpUser, *, vaults: list[Vault] | None = None) -> list[Removal]:
    """The person's direct grants (on live vaults), then their memberships of live groups; with
    `vaults`, only grants on them and memberships of groups that grant one of them."""
    grants = VaultGrant.objects.filter(user=op_user, vault__removed_at__isnull=True).select_related("vault")
    memberships = GroupMembership.objects.filter(user=op_user, group__removed_at__isnull=True).select_related("group")
    if vaults is not None:
        grants = grants.filter(vault__in=vaults)
        memberships = memberships.filter(group__grants__vault__in=vaults).distinct()
    removals = [
        Removal(
            kind="direct_grant", target_id=g.pk, name=g.vault.name, op_id=g.vault.op_id,
            permissions=tuple(permission_labels(g.permissions or [])),
            reason=f"Direct access to “{g.vault.name}”: {', '.join(permission_labels(normalise_permissions(g.permissions or [])))}.",
        )
        for g in sorted(grants, key=lambda g: (g.vault.name.casefold(), g.pk))
    ]
    reach: dict[int, list[str]] = {}
    group_ids = [m.group_id for m in memberships]
    for group_id, vault_name in VaultGrant.objects.filter(
        group_id__in=group_ids, vault__removed_at__isnull=True
    ).values_list("group_id", "vault__name"):
        reach.setdefault(group_id, []).append(vault_name)
    for m in sorted(memberships, key=lambda m: (m.group.name.casefold(), m.pk)):
        names = sorted(reach.get(m.group_id, []), key=str.casefold)
        through = f"gives access to {', '.join(f'“{n}”' for n in names)}" if names else "grants no vault now"
        removals.append(
            Removal(
                kind="group_membership", target_id=m.pk, name=m.group.name, op_id=m.group.op_id, permissions=(),
                reason=f"Member{' (manager)' if m.role == 'MANAGER' else ''} of group “{m.group.name}”, which {through}.",
            )
        )
    return removals
