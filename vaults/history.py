"""Point-in-time history of an account: what was true at a moment, and what changed in a period.

A report for a closed period must read the organisation as it was at the period's end, and give the
same figures when regenerated a year later. The synced tables hold only the latest truth, so every
successful sync (and a person's change of a vault's classification) records the difference into
spans (vaults/models/history.py): users, groups, memberships, grants, vaults and items.

Recording (`record_history`), per table, set-based:
1. one read of the live rows, shaped as key -> values;
2. one read of the spans still open;
3. spans whose thing vanished or changed are closed at `at` (one UPDATE), spans for new or changed
   things are opened at `at` (one bulk INSERT). Nothing changed: nothing is written.

Reading: `access_at` merges the spans open at a moment by the rules of `vaults.access.effective_access`
(direct grants and grants through groups; removed vaults and groups grant nothing; users who were
suspended or removed still show their access). `access_changes` diffs that merge between the
moments something changed in a period. History starts at the first recording (`history_since`):
nothing before it is invented, so a period that ended before it has no evidence.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db import transaction
from django.db.models import BooleanField, Case, Exists, Max, OuterRef, Q, QuerySet, Value, When

from vaults.access import AccessRow, normalise_permissions
from vaults.findings.candidate import policy_scopes
from vaults.findings.jsonsql import JSONListHasAny
from vaults.models import (
    Account,
    GrantSpan,
    GroupMembership,
    GroupSpan,
    HistoryStart,
    Item,
    ItemSpan,
    MembershipSpan,
    OpGroup,
    OpUser,
    SecretField,
    UserSpan,
    Vault,
    VaultGrant,
    VaultSpan,
)
from vaults.models.history import Span

Key = tuple[Any, ...]
Values = tuple[Any, ...]

# --- recording ---------------------------------------------------------------------------------


def _live_users(account: Account) -> dict[Key, Values]:
    rows = OpUser.objects.filter(account=account).values_list("op_id", "name", "email", "user_type", "state", "removed_at")
    return {(op_id,): (name, email, user_type, state, removed_at is not None)
            for op_id, name, email, user_type, state, removed_at in rows}


def _live_groups(account: Account) -> dict[Key, Values]:
    rows = OpGroup.objects.filter(account=account).values_list("op_id", "name", "removed_at")
    return {(op_id,): (name, removed_at is not None) for op_id, name, removed_at in rows}


def _live_memberships(account: Account) -> dict[Key, Values]:
    rows = GroupMembership.objects.filter(group__account=account).values_list("group__op_id", "user__op_id", "role")
    return {(group, user): (role,) for group, user, role in rows}


def _live_grants(account: Account) -> dict[Key, Values]:
    rows = VaultGrant.objects.filter(vault__account=account).values_list(
        "vault__op_id", "user__op_id", "group__op_id", "permissions")
    return {(vault, user or "", group or ""): (sorted(normalise_permissions(permissions or [])),)
            for vault, user, group, permissions in rows}


def _live_vaults(account: Account) -> dict[Key, Values]:
    rows = Vault.objects.filter(account=account).values_list("op_id", "name", "classification", "removed_at")
    return {(op_id,): (name, classification, removed_at is not None) for op_id, name, classification, removed_at in rows}


def rotating_items(account: Account) -> Q:
    """The items the rotation figure counts (compliance/reports/evidence.py): per policy scope, the
    policy's rotating categories and LOGINs tagged as service accounts, with a secret whose last
    change is known."""
    kinds = Q()
    for scope in policy_scopes(account):
        policy = scope.policy
        kinds |= scope.q() & (Q(category__in=list(policy.rotating_categories))
                              | (Q(category="LOGIN") & Q(JSONListHasAny("tags", policy.service_account_tags))))
    known_change = Exists(SecretField.objects.filter(item=OuterRef("pk"), changed_at__isnull=False))
    return kinds & Q(known_change)


def _live_items(account: Account) -> dict[Key, Values]:
    rotating = Case(When(rotating_items(account), then=Value(True)), default=Value(False), output_field=BooleanField())
    rows = (Item.objects.filter(vault__account=account).annotate(rotating=rotating)
            .values_list("vault__op_id", "op_id", "category", "archived", "removed_at", "rotating").order_by())
    return {(vault, op_id): (category, archived, removed_at is not None, rotating)
            for vault, op_id, category, archived, removed_at, rotating in rows}


@dataclass(frozen=True)
class _Table:
    name: str
    model: type[Span]
    key: tuple[str, ...]
    values: tuple[str, ...]
    live: Callable[[Account], dict[Key, Values]]


TABLES: dict[str, _Table] = {t.name: t for t in (
    _Table("users", UserSpan, ("op_id",), ("name", "email", "user_type", "state", "removed"), _live_users),
    _Table("groups", GroupSpan, ("op_id",), ("name", "removed"), _live_groups),
    _Table("memberships", MembershipSpan, ("group_op_id", "user_op_id"), ("role",), _live_memberships),
    _Table("grants", GrantSpan, ("vault_op_id", "user_op_id", "group_op_id"), ("permissions",), _live_grants),
    _Table("vaults", VaultSpan, ("op_id",), ("name", "classification", "removed"), _live_vaults),
    _Table("items", ItemSpan, ("vault_op_id", "op_id"), ("category", "archived", "removed", "rotating"), _live_items),
)}
# A person's classification change records vaults only: the live item rows may be half-way through a
# running (or failed) sync, and only a successful sync's state becomes history; the items' rotation
# flags that follow from the new classification are recorded by the next successful sync.
CLASSIFICATION_TABLES = ("vaults",)
# Rows per `pk IN (...)`: SQLite allows 32,766 parameters in one statement.
CHUNK = 5000


def _record_table(table: _Table, account: Account, at: datetime.datetime) -> int:
    """Steps 1-3 of the module docstring for one table; returns the number of spans opened or closed."""
    live = table.live(account)
    width = len(table.key)
    open_spans: dict[Key, tuple[int, Values]] = {}
    ended: list[int] = []
    for pk, *fields in table.model._default_manager.filter(account=account, valid_to__isnull=True).values_list(
            "pk", *table.key, *table.values).order_by("valid_from", "pk"):
        key, values = tuple(fields[:width]), tuple(fields[width:])
        if key in open_spans:  # two open spans for one thing (never written by this code): keep the newest
            ended.append(open_spans[key][0])
        open_spans[key] = (pk, values)
    ended += [pk for key, (pk, values) in open_spans.items() if live.get(key) != values]
    started = [
        table.model(account=account, valid_from=at, **dict(zip(table.key, key, strict=True)),
                    **dict(zip(table.values, values, strict=True)))
        for key, values in live.items()
        if key not in open_spans or open_spans[key][1] != values
    ]
    for start in range(0, len(ended), CHUNK):
        spans = table.model._default_manager.filter(pk__in=ended[start : start + CHUNK])
        spans.filter(valid_from__lt=at).update(valid_to=at)
        # Opened at this very moment (a second recording at the same time): it was never true.
        spans.filter(valid_from__gte=at).delete()
    table.model._default_manager.bulk_create(started, batch_size=2000)
    return len(ended) + len(started)


def record_history(account: Account, *, at: datetime.datetime, tables: Sequence[str] = tuple(TABLES)) -> int:
    """Record what changed in `account` since the last recording, as of `at`; returns the number of
    spans opened or closed (0 when nothing changed). The first call starts the account's history.

    Runs in one transaction holding the account's row lock, so a sync finishing while a person
    reclassifies a vault cannot open two spans for one thing."""
    with transaction.atomic():
        Account.objects.select_for_update().filter(pk=account.pk).first()
        # Time never runs backwards in history: a recording that computed its moment before
        # waiting for the lock lands just at the latest one, never before it.
        latest = [moment for table in TABLES.values() for moment in table.model._default_manager.filter(
            account=account).aggregate(opened=Max("valid_from"), closed=Max("valid_to")).values() if moment is not None]
        at = max([at, *latest])
        HistoryStart.objects.get_or_create(account=account, defaults={"since": at})
        return sum(_record_table(TABLES[name], account, at) for name in tables)


def record_classification(account: Account, *, at: datetime.datetime) -> int:
    """After a person changed a vault's classification: record it now rather than at the next sync.
    Before the account's first sync there is no history to add to (it starts with a whole state)."""
    if not HistoryStart.objects.filter(account=account).exists():
        return 0
    return record_history(account, at=at, tables=CLASSIFICATION_TABLES)


def history_since(account: Account) -> datetime.datetime | None:
    """When the account's history starts (its first recording); None when nothing was recorded."""
    return HistoryStart.objects.filter(account=account).values_list("since", flat=True).first()


# --- reading: state at a moment ----------------------------------------------------------------


def open_at(moment: datetime.datetime) -> Q:
    """Spans true at `moment`: opened at or before it, not closed by it."""
    return Q(valid_from__lte=moment) & (Q(valid_to__isnull=True) | Q(valid_to__gt=moment))


@dataclass
class _AccessSpans:
    """The access-relevant spans of one account (all of one moment, or all of a period)."""

    account: Account
    users: list[UserSpan]
    groups: list[GroupSpan]
    memberships: list[MembershipSpan]
    grants: list[GrantSpan]
    vaults: list[VaultSpan]

    @classmethod
    def load(cls, account: Account, when: Q) -> _AccessSpans:
        def spans(model: type[Any]) -> list[Any]:
            return list(model.objects.filter(when, account=account).order_by("valid_from", "pk"))

        return cls(account, spans(UserSpan), spans(GroupSpan), spans(MembershipSpan), spans(GrantSpan), spans(VaultSpan))

    def _where(self, true: Callable[[Span], bool]) -> _AccessSpans:
        def keep(rows: list[Any]) -> list[Any]:
            return [row for row in rows if true(row)]

        return _AccessSpans(self.account, keep(self.users), keep(self.groups), keep(self.memberships),
                            keep(self.grants), keep(self.vaults))

    def at(self, moment: datetime.datetime) -> _AccessSpans:
        return self._where(lambda span: span.valid_from <= moment and (span.valid_to is None or span.valid_to > moment))

    def just_before(self, moment: datetime.datetime) -> _AccessSpans:
        return self._where(lambda span: span.valid_from < moment and (span.valid_to is None or span.valid_to >= moment))

    def all(self) -> list[Span]:
        return [*self.users, *self.groups, *self.memberships, *self.grants, *self.vaults]


@dataclass
class _Paths:
    permissions: set[str] = field(default_factory=set)
    direct: frozenset[str] | None = None
    groups: set[str] = field(default_factory=set)


def _merge(state: _AccessSpans) -> dict[tuple[str, str], _Paths]:
    """(user op id, vault op id) -> every path of access, by the rules of `effective_access`."""
    users = {u.op_id for u in state.users}
    vaults = {v.op_id for v in state.vaults if not v.removed}
    groups = {g.op_id: g.name for g in state.groups if not g.removed}
    members: dict[str, list[str]] = {}
    for m in state.memberships:
        if m.user_op_id in users:
            members.setdefault(m.group_op_id, []).append(m.user_op_id)
    paths: dict[tuple[str, str], _Paths] = {}
    for grant in state.grants:
        if grant.vault_op_id not in vaults:
            continue
        rights = frozenset(grant.permissions)
        if grant.user_op_id:
            if grant.user_op_id in users:
                entry = paths.setdefault((grant.user_op_id, grant.vault_op_id), _Paths())
                entry.permissions |= rights
                entry.direct = rights
        elif grant.group_op_id in groups:
            for user in members.get(grant.group_op_id, ()):
                entry = paths.setdefault((user, grant.vault_op_id), _Paths())
                entry.permissions |= rights
                entry.groups.add(groups[grant.group_op_id])
    return paths


@dataclass
class _Rows:
    """Unsaved OpUser / Vault instances carrying a moment's attributes, with the synced rows' ids
    (so counts by pk and links work; a thing whose row is gone gets a negative id of its own)."""

    account: Account
    user_pks: dict[str, int]
    vault_pks: dict[str, int]

    @classmethod
    def for_account(cls, account: Account) -> _Rows:
        return cls(account, dict(OpUser.objects.filter(account=account).values_list("op_id", "pk")),
                   dict(Vault.objects.filter(account=account).values_list("op_id", "pk")))

    def user(self, span: UserSpan) -> OpUser:
        return OpUser(pk=self.user_pks.get(span.op_id, -span.pk), account=self.account, op_id=span.op_id, name=span.name,
                      email=span.email, user_type=span.user_type, state=span.state,
                      removed_at=span.valid_from if span.removed else None)

    def vault(self, span: VaultSpan) -> Vault:
        return Vault(pk=self.vault_pks.get(span.op_id, -span.pk), account=self.account, op_id=span.op_id, name=span.name,
                     classification=span.classification, removed_at=span.valid_from if span.removed else None)


def _sort_key(row: AccessRow) -> tuple[Any, ...]:
    return (row.vault.name.casefold(), row.vault.pk, str(row.user).casefold(), row.user.pk)


def _access_rows(state: _AccessSpans, rows: _Rows) -> list[AccessRow]:
    users = {u.op_id: rows.user(u) for u in state.users}
    vaults = {v.op_id: rows.vault(v) for v in state.vaults}
    result = [
        AccessRow(user=users[user], vault=vaults[vault], permissions=frozenset(entry.permissions),
                  via_direct=entry.direct is not None, via_groups=tuple(sorted(entry.groups)),
                  direct_permissions=entry.direct or frozenset())
        for (user, vault), entry in _merge(state).items()
    ]
    result.sort(key=_sort_key)
    return result


def access_at(account: Account, moment: datetime.datetime) -> list[AccessRow]:
    """Every (user, vault) pair with access at `moment`, as `effective_access` computed it then
    (same merge, same order). Empty before the account's history starts."""
    return _access_rows(_AccessSpans.load(account, open_at(moment)), _Rows.for_account(account))


def vaults_at(account: Account, moment: datetime.datetime) -> list[Vault]:
    """The vaults present at `moment` (removed ones left out), with that moment's name and class."""
    rows = _Rows.for_account(account)
    spans = VaultSpan.objects.filter(open_at(moment), account=account, removed=False).order_by("name", "op_id")
    return [rows.vault(span) for span in spans]


def active_items_at(accounts: Iterable[Account], moment: datetime.datetime) -> QuerySet[ItemSpan]:
    """Spans of the items that counted at `moment`: neither archived nor removed, in a vault present
    then (the same rule as `vaults.findings.candidate.active_items` for today)."""
    vault_present = VaultSpan.objects.filter(open_at(moment), account=OuterRef("account"), op_id=OuterRef("vault_op_id"),
                                             removed=False)
    return (ItemSpan.objects.filter(open_at(moment), account__in=list(accounts), archived=False, removed=False)
            .filter(Exists(vault_present)).order_by())


# --- reading: changes in a period ---------------------------------------------------------------

ChangeKind = Literal["granted", "modified", "removed"]


@dataclass(frozen=True)
class AccessChange:
    """One user's access to one vault granted, modified (permissions changed) or removed."""

    at: datetime.datetime
    change: ChangeKind
    user: OpUser
    vault: Vault
    before: frozenset[str]
    after: frozenset[str]
    # How the access is held after the change (before it, for a removal): "direct", "group Ops", ...
    path: str


def _path(entry: _Paths) -> str:
    parts = (["direct"] if entry.direct is not None else []) + [f"group {name}" for name in sorted(entry.groups)]
    return ", ".join(parts)


class _Replay:
    """The access-relevant spans open at one moment, indexed so that one recording's changes can be
    applied and only the user-vault pairs they touch merged again (a quarter of hourly recordings
    would otherwise merge every pair thousands of times)."""

    def __init__(self, state: _AccessSpans) -> None:
        self.users: dict[str, UserSpan] = {}
        self.groups: dict[str, GroupSpan] = {}
        self.vaults: dict[str, VaultSpan] = {}
        self.members: dict[str, set[str]] = {}  # group -> users
        self.groups_of: dict[str, set[str]] = {}  # user -> groups
        self.direct: dict[tuple[str, str], GrantSpan] = {}  # (user, vault)
        self.group_grants: dict[str, dict[str, GrantSpan]] = {}  # vault -> group -> grant
        self.vaults_of_group: dict[str, set[str]] = {}
        for span in (*state.users, *state.groups, *state.vaults, *state.memberships, *state.grants):
            self.apply(span, opening=True)
        self.paths = _merge(state)

    def apply(self, span: Span, *, opening: bool) -> None:
        if isinstance(span, UserSpan):
            self._put(self.users, span.op_id, span, opening)
        elif isinstance(span, GroupSpan):
            self._put(self.groups, span.op_id, span, opening)
        elif isinstance(span, VaultSpan):
            self._put(self.vaults, span.op_id, span, opening)
        elif isinstance(span, MembershipSpan):
            self._link(self.members, span.group_op_id, span.user_op_id, opening)
            self._link(self.groups_of, span.user_op_id, span.group_op_id, opening)
        elif isinstance(span, GrantSpan) and span.user_op_id:
            self._put(self.direct, (span.user_op_id, span.vault_op_id), span, opening)
        elif isinstance(span, GrantSpan):
            self._put(self.group_grants.setdefault(span.vault_op_id, {}), span.group_op_id, span, opening)
            self._link(self.vaults_of_group, span.group_op_id, span.vault_op_id, opening)

    @staticmethod
    def _put(index: dict[Any, Any], key: Any, span: Span, opening: bool) -> None:
        if opening:
            index[key] = span
        elif index.get(key) is span:
            del index[key]

    @staticmethod
    def _link(index: dict[str, set[str]], key: str, value: str, opening: bool) -> None:
        if opening:
            index.setdefault(key, set()).add(value)
        else:
            index.get(key, set()).discard(value)

    def touched(self, span: Span) -> set[tuple[str, str]]:
        """The (user, vault) pairs whose access this span's opening or closing may change."""
        if isinstance(span, UserSpan):
            return {(span.op_id, vault) for vault in self.vaults}
        if isinstance(span, VaultSpan):
            return {(user, span.op_id) for user in self.users}
        if isinstance(span, GroupSpan):
            return {(u, v) for u in self.members.get(span.op_id, ()) for v in self.vaults_of_group.get(span.op_id, ())}
        if isinstance(span, MembershipSpan):
            return {(span.user_op_id, vault) for vault in self.vaults_of_group.get(span.group_op_id, ())}
        if isinstance(span, GrantSpan) and span.user_op_id:
            return {(span.user_op_id, span.vault_op_id)}
        if isinstance(span, GrantSpan):
            return {(user, span.vault_op_id) for user in self.members.get(span.group_op_id, ())}
        return set()

    def merged(self, user: str, vault: str) -> _Paths | None:
        """One pair's access, by the rules of `_merge`."""
        place = self.vaults.get(vault)
        if user not in self.users or place is None or place.removed:
            return None
        entry = _Paths()
        grant = self.direct.get((user, vault))
        if grant is not None:
            entry.direct = frozenset(grant.permissions)
            entry.permissions |= entry.direct
        by_group = self.group_grants.get(vault, {})
        for group in self.groups_of.get(user, ()):
            if group in by_group and group in self.groups and not self.groups[group].removed:
                entry.permissions |= frozenset(by_group[group].permissions)
                entry.groups.add(self.groups[group].name)
        return entry if entry.direct is not None or entry.groups else None

    def record(self, at: datetime.datetime, closing: list[Span], opening: list[Span], rows: _Rows) -> list[AccessChange]:
        """Apply one recording's closed and opened spans; returns the accesses it changed."""
        touched: set[tuple[str, str]] = set()
        for span in (*closing, *opening):
            touched |= self.touched(span)
        users_before, vaults_before = dict(self.users), dict(self.vaults)
        for span in closing:
            self.apply(span, opening=False)
        for span in opening:
            self.apply(span, opening=True)
        for span in (*closing, *opening):
            touched |= self.touched(span)
        changes: list[AccessChange] = []
        for user, vault in touched:
            was, now = self.paths.get((user, vault)), self.merged(user, vault)
            if now is None:
                self.paths.pop((user, vault), None)
            else:
                self.paths[(user, vault)] = now
            was_rights = frozenset(was.permissions) if was else frozenset()
            now_rights = frozenset(now.permissions) if now else frozenset()
            if (was is None and now is None) or (was is not None and now is not None and was_rights == now_rights):
                continue
            kind: ChangeKind = "granted" if was is None else "removed" if now is None else "modified"
            held = now if now is not None else was
            assert held is not None  # one of the two exists (checked above)
            user_span = self.users.get(user) or users_before[user]
            vault_span = self.vaults.get(vault) or vaults_before[vault]
            changes.append(AccessChange(at=at, change=kind, user=rows.user(user_span), vault=rows.vault(vault_span),
                                        before=was_rights, after=now_rights, path=_path(held)))
        changes.sort(key=lambda c: (c.vault.name.casefold(), str(c.user).casefold(), c.user.op_id))
        return changes


def access_changes(accounts: Iterable[Account], start: datetime.datetime, end: datetime.datetime) -> list[AccessChange]:
    """User-vault accesses granted, modified or removed in [start, end), oldest first.

    1. Per account, the spans overlapping the period are read once (one query per table).
    2. The baseline is the state just before `start`, or the first recording when history starts
       inside the period (the first recording is where history begins, not a wave of grants).
    3. Replayed recording by recording: each one's closed and opened spans are applied, and the
       user-vault pairs they touch merged again and compared with before (`_Replay`).
    """
    result: list[AccessChange] = []
    for account in accounts:
        since = history_since(account)
        if since is None or since >= end:
            continue
        first = max(start, since)
        spans = _AccessSpans.load(account, Q(valid_from__lt=end) & (Q(valid_to__isnull=True) | Q(valid_to__gte=first)))
        rows = _Rows.for_account(account)
        replay = _Replay(spans.at(since) if since >= start else spans.just_before(start))
        opening: dict[datetime.datetime, list[Span]] = {}
        closing: dict[datetime.datetime, list[Span]] = {}
        for span in spans.all():
            opening.setdefault(span.valid_from, []).append(span)
            if span.valid_to is not None:
                closing.setdefault(span.valid_to, []).append(span)
        for moment in sorted(m for m in opening.keys() | closing.keys() if since < m and start <= m < end):
            result.extend(replay.record(moment, closing.get(moment, []), opening.get(moment, []), rows))
    result.sort(key=lambda c: c.at)
    return result
