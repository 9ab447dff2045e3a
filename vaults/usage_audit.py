"""Usage audit: who used which item, when, from where and how, for any filter and time range.

One filter (`UsageFilter`) drives the page, the API and the exports, so they always agree.
Usage lives in two tables:
- `ItemUsage`, the raw events: the rows listed on the page, in the API and in exports (newest
  first, keyset-paged), and every count filtered by country or IP;
- `ItemUsageDaily`, counts per day, item, vault, person and action for *every* day, kept equal to
  the raw events by database triggers (migration 0010) and kept when retention deletes old raw
  events (vaults/usage_retention.py). Counts per person, per item and the timeline read it: at 5
  million events it is a fifth of the raw table's size and answers a day range, not timestamps.
A country or IP filter cannot use the daily counts (they keep neither), so it counts raw events
only, and `Coverage` says the summarised days are left out.
A group filter means the group's *current* members (memberships as of the last sync), applied to
the whole range: a person who left the group still counts if they are in it now, not otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Max, Min, Q, QuerySet, Sum, Value
from django.db.models.functions import Collate, TruncDate

from vaults import usage_rollups
from vaults.findings.usage_coverage import FEED
from vaults.models import Account, GroupMembership, Item, ItemUsage, ItemUsageDaily, OpUser, SyncRun, Vault
from vaults.usage_filter import UsageFilter

# Daily buckets up to a quarter; weekly beyond, so a year's chart stays readable (~53 points).
DAILY_BUCKET_MAX_DAYS = 92
TOP_ROWS = 20
# Memory for the one-scan summary's hashes and sorts, this transaction only. With PostgreSQL's
# default 4 MB, a month of a 1,000-person organisation's usage (386k events, 89k groups) spilled
# to disk in three places (840 ms at load 7; 700 ms with this value, all in memory).
SUMMARY_WORK_MEM = "64MB"
EVENTS_READ_FAILED = "Events not read"  # how vaults/sync.py records a failed read of the Events API


def _scoped(rows: QuerySet[Any], f: UsageFilter) -> QuerySet[Any]:
    """Filters both tables share: account, vault, item, person, group, action, item attributes."""
    if f.account is not None:
        rows = rows.filter(account=f.account)
    if f.vault is not None:
        rows = rows.filter(account_id=f.vault.account_id, vault_op_id=f.vault.op_id)
    if f.item is not None:
        rows = rows.filter(account_id=f.item.vault.account_id, item_op_id=f.item.op_id)
    if f.person is not None:
        rows = rows.filter(account_id=f.person.account_id, user_op_id=f.person.op_id)
    if f.group is not None:
        members = GroupMembership.objects.filter(group=f.group).values("user__op_id")
        rows = rows.filter(account_id=f.group.account_id, user_op_id__in=members)
    if f.action:
        rows = rows.filter(action=f.action)
    # Item and vault attributes as uncorrelated `IN (SELECT op_id ...)`: PostgreSQL hashes the few
    # matching ids once, or walks the (op_id, timestamp) index per id, instead of probing a
    # correlated subquery per usage row (a month of production keys at 200k events: 2.7 s that
    # way; 46k matching events out of 5M now take ~250 ms, bench/bench_usage.py).
    # Ids are 1Password UUIDs, unique across accounts, so no account pairing is needed here.
    if f.classification:
        vaults = Vault.objects.filter(classification=f.classification)
        rows = rows.filter(vault_op_id__in=(vaults.filter(account=f.account) if f.account else vaults).values("op_id"))
    if f.title or f.tag:
        items = Item.objects.filter(vault__account=f.account) if f.account else Item.objects.all()
        if f.title:
            items = items.filter(title__icontains=f.title)
        if f.tag:
            items = items.filter(_has_tag(f.tag))
        rows = rows.filter(item_op_id__in=items.values("op_id"))
    return rows


def _has_tag(tag: str) -> Q:
    """An exact tag. PostgreSQL answers JSON containment; the embedded SQLite demo cannot, so it
    matches the quoted tag inside the JSON text (tags are plain strings)."""
    if connection.vendor == "postgresql":
        return Q(tags__contains=[tag])
    return Q(tags__icontains=f'"{tag}"')


def events(f: UsageFilter) -> QuerySet[ItemUsage]:
    """Raw usage events matching `f`, newest first."""
    rows = _scoped(ItemUsage.objects.all(), f)
    if f.country:
        rows = rows.filter(country__iexact=f.country)
    if f.ip:
        rows = rows.filter(client_ip__startswith=f.ip) if f.ip.endswith((".", ":")) else rows.filter(client_ip=f.ip)
    if f.start_at:
        rows = rows.filter(timestamp__gte=f.start_at)
    if f.end_before:
        rows = rows.filter(timestamp__lt=f.end_before)
    return rows.order_by("-timestamp", "-id")


def events_after(f: UsageFilter, last_id: int | None) -> QuerySet[ItemUsage]:
    """`events(f)` after the event `last_id` in the listing's order (newest first): a keyset, one
    index range however deep the page, where an OFFSET reads and drops every earlier row. An
    unknown id (deleted by retention) lists nothing, rather than starting over unnoticed."""
    rows = events(f)
    if last_id is None:
        return rows
    last = ItemUsage.objects.filter(pk=last_id).values_list("timestamp", flat=True).first()
    if last is None:
        return rows.none()
    return rows.filter(Q(timestamp__lt=last) | Q(timestamp=last, id__lt=last_id))


def daily_counts(f: UsageFilter) -> QuerySet[ItemUsageDaily]:
    """Daily counts matching `f`, every day; none with a country or IP filter (the counts keep neither)."""
    if f.country or f.ip:
        return ItemUsageDaily.objects.none()
    rows = _scoped(ItemUsageDaily.objects.all(), f)
    if f.start:
        rows = rows.filter(day__gte=f.start)
    if f.end:
        rows = rows.filter(day__lte=f.end)
    return rows


def _first_raw_days(f: UsageFilter) -> dict[int, date | None]:
    """Per account in scope: the first day with raw events (None: no raw event left). Days before it
    are summarised: counted in ItemUsageDaily, with no single event any more. One step down the
    (account, timestamp) index per account."""
    accounts = [f.account.pk] if f.account is not None else list(Account.objects.values_list("pk", flat=True))
    firsts: dict[int, date | None] = {}
    for account_id in accounts:
        first = ItemUsage.objects.filter(account_id=account_id).aggregate(first=Min("timestamp"))["first"]
        firsts[account_id] = first.astimezone(UTC).date() if first else None
    return firsts


def summarised_days(f: UsageFilter) -> QuerySet[ItemUsageDaily]:
    """The daily counts of days that have no raw event any more (past retention), for exports."""
    before = Q(pk__in=[])
    for account_id, first in _first_raw_days(f).items():
        before |= Q(account_id=account_id, day__lt=first) if first else Q(account_id=account_id)
    return daily_counts(f).filter(before)


@dataclass(frozen=True)
class _Counted:
    """What the counts of `f` read: daily counts, or raw events under a country or IP filter."""

    rows: QuerySet[Any]
    day: Any  # each row's UTC day
    uses: Any  # how many uses one row stands for


def _counted(f: UsageFilter) -> _Counted:
    if f.country or f.ip:
        return _Counted(events(f).order_by(), TruncDate("timestamp", tzinfo=UTC), Value(1))
    return _Counted(daily_counts(f).order_by(), F("day"), F("count"))


@dataclass(frozen=True)
class CountRow:
    account_id: int
    op_id: str
    count: int
    label: str = ""
    detail: str = ""
    pk: int | None = None  # the person's or item's page, when still known


def _grouped(f: UsageFilter, column: str, limit: int | None) -> list[tuple[int, str, int]]:
    """(account_id, op_id, uses) per `column`, most uses first: GROUP BY in the database."""
    counted = _counted(f)
    # Ties by id in byte order ("C"): the same on both paths, and sorting ids by the database's
    # locale collation cost a quarter of the one-scan summary's time.
    order = Collate(column, "C") if connection.vendor == "postgresql" else F(column)
    grouped = (
        counted.rows.values_list("account_id", column).annotate(n=Sum(counted.uses)).order_by("-n", "account_id", order)
    )
    return list(grouped[:limit] if limit else grouped)


def counts_per_person(f: UsageFilter, *, limit: int | None = TOP_ROWS) -> list[CountRow]:
    span = _span(f)
    rolled = usage_rollups.people(f, _scoped, *span, limit) if span else None
    return _people_rows(rolled if rolled is not None else _grouped(f, "user_op_id", limit))


def _people_rows(grouped: list[tuple[int, str, int]]) -> list[CountRow]:
    people = OpUser.objects.filter(op_id__in={op_id for _, op_id, _ in grouped}).only("pk", "account_id", "op_id", "name", "email")
    known = {(p.account_id, p.op_id): p for p in people}
    missing = {op_id for a, op_id, _ in grouped if (a, op_id) not in known}
    # People removed from 1Password: the name the event printed.
    printed = dict(ItemUsage.objects.filter(user_op_id__in=missing).values_list("user_op_id", "user_name")) if missing else {}
    rows = []
    for account_id, op_id, n in grouped:
        person = known.get((account_id, op_id))
        label = (person.name or person.email) if person else printed.get(op_id, "") or op_id
        # The e-mail under the name; a person without a name is labelled by the e-mail already.
        detail = person.email if person and person.name else ""
        rows.append(CountRow(account_id, op_id, n, label=label, detail=detail, pk=person.pk if person else None))
    return rows


def counts_per_item(f: UsageFilter, *, limit: int | None = TOP_ROWS) -> list[CountRow]:
    span = _span(f) if limit else None  # the rollup answers a top N, not every item
    rolled = usage_rollups.top_items(f, _scoped, *span, limit) if span and limit else None
    return _item_rows(rolled if rolled is not None else _grouped(f, "item_op_id", limit))


def _item_rows(grouped: list[tuple[int, str, int]]) -> list[CountRow]:
    items = Item.objects.filter(op_id__in={op_id for _, op_id, _ in grouped}).select_related("vault").only(
        "pk", "op_id", "title", "vault__name", "vault__account_id"
    )
    known = {(i.vault.account_id, i.op_id): i for i in items}
    rows = []
    for account_id, op_id, n in grouped:
        item = known.get((account_id, op_id))
        rows.append(CountRow(account_id, op_id, n, label=item.title if item else op_id,
                             detail=item.vault.name if item else "", pk=item.pk if item else None))  # fmt: skip
    return rows


@dataclass(frozen=True)
class Timeline:
    bucket: str  # "day" or "week"
    points: list[tuple[date, int]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(n for _, n in self.points)


def _as_day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _bucketed(first: date, last: date, daily: dict[date, int]) -> Timeline:
    """Per day up to a quarter, per week (from Monday) beyond, zero-filled from `first` to `last`."""
    weekly = (last - first).days > DAILY_BUCKET_MAX_DAYS
    totals: dict[date, int] = defaultdict(int)
    for day, n in daily.items():
        totals[day - timedelta(days=day.weekday()) if weekly else day] += n
    step = timedelta(days=7 if weekly else 1)
    cursor = first - timedelta(days=first.weekday()) if weekly else first
    points = []
    while cursor <= last:
        points.append((cursor, totals.get(cursor, 0)))
        cursor += step
    return Timeline("week" if weekly else "day", points)


def timeline(f: UsageFilter) -> Timeline:
    """Uses per day (up to a quarter) or per week (Monday), zero-filled from start to end."""
    span = _span(f)
    if span is None:
        return Timeline("day")
    rolled = usage_rollups.daily_totals(f, _scoped, *span)
    return _bucketed(*span, rolled if rolled is not None else _daily_from_counted(f))


def _daily_from_counted(f: UsageFilter) -> dict[date, int]:
    counted = _counted(f)
    daily = counted.rows.annotate(d=counted.day).values_list("d").annotate(n=Sum(counted.uses)).values_list("d", "n")
    return {_as_day(d): n for d, n in daily}


@dataclass(frozen=True)
class Summary:
    people: list[CountRow]
    items: list[CountRow]
    timeline: Timeline


def summary(f: UsageFilter, *, limit: int = TOP_ROWS) -> Summary:
    """Counts per person and per item (top `limit` each) and the timeline.

    1. Each of the three from its rollup where the filter allows (vaults/usage_rollups.py).
    2. On PostgreSQL, when two or three are left, one scan of the matching daily counts answers
       all three (GROUPING SETS): separate GROUP BYs read the same rows once each (bench/bench_usage.py).
    3. Otherwise the one left reads the daily counts (or the raw events) on its own."""
    if connection.vendor != "postgresql":
        return Summary(counts_per_person(f, limit=limit), counts_per_item(f, limit=limit), timeline(f))
    span = _span(f)
    if span is None:
        return Summary([], [], Timeline("day"))
    people = usage_rollups.people(f, _scoped, *span, limit)
    daily = usage_rollups.daily_totals(f, _scoped, *span)
    # With both of these left to the daily counts, their one scan answers the items as well.
    items = usage_rollups.top_items(f, _scoped, *span, limit) if people is not None or daily is not None else None
    if [part is None for part in (people, items, daily)].count(True) >= 2:
        # The one scan costs the same for one set or three; a rollup read beside it only adds
        # (one vault's reveals: 130 ms with the per-vault timeline, 71 ms without, load 16).
        people, items, daily = _one_scan(f, limit)
    else:
        people = _grouped(f, "user_op_id", limit) if people is None else people
        items = _grouped(f, "item_op_id", limit) if items is None else items
        daily = _daily_from_counted(f) if daily is None else daily
    assert people is not None and items is not None and daily is not None
    return Summary(_people_rows(people), _item_rows(items), _bucketed(*span, daily))


def _one_scan(f: UsageFilter, limit: int) -> tuple[list[tuple[int, str, int]], list[tuple[int, str, int]], dict[date, int]]:
    """Per person, per item (top `limit`) and per day in one scan of the matching daily counts."""
    counted = _counted(f)
    matched = counted.rows.annotate(d=counted.day, n=counted.uses).values_list("account_id", "user_op_id", "item_op_id", "d", "n")
    matched_sql, params = matched.query.sql_with_params()
    # In the person set item_op_id is grouped away (gi = 1), in the item set user_op_id (gu = 1),
    # in the timeline set both. Each top `limit` is an ORDER BY ... LIMIT of its own set: a top-N
    # heap, where one row_number() window sorted every group (a country's month at 5M events,
    # 63,000 events: the answer 165 -> 111-122 ms p50, bench/bench_usage.py). Ties break as in
    # `_grouped`, so both paths rank alike (tests/vaults/test_usage_audit.py cuts through a tie).
    # Only Django's compiled SQL is interpolated; values travel as params.
    columns = "gu, gi, account_id, user_op_id, item_op_id, d, n"
    sql = (
        "WITH grouped AS MATERIALIZED ("  # noqa: S608
        "  SELECT GROUPING(user_op_id) AS gu, GROUPING(item_op_id) AS gi, account_id, user_op_id, item_op_id, d, SUM(n) AS n"
        f"  FROM ({matched_sql}) AS matched"
        "  GROUP BY GROUPING SETS ((account_id, user_op_id), (account_id, item_op_id), (d)))"
        f" (SELECT {columns} FROM grouped WHERE gu = 1 AND gi = 1)"
        f" UNION ALL (SELECT {columns} FROM grouped WHERE gu = 0"
        '  ORDER BY n DESC, account_id, user_op_id COLLATE "C" LIMIT %s)'
        f" UNION ALL (SELECT {columns} FROM grouped WHERE gi = 0"
        '  ORDER BY n DESC, account_id, item_op_id COLLATE "C" LIMIT %s)'
    )
    people: list[tuple[int, str, int]] = []
    items: list[tuple[int, str, int]] = []
    daily: dict[date, int] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL work_mem = '{SUMMARY_WORK_MEM}'")
        # JIT compiling this one query cost ~110 ms of its time at 400k rows, more than it saved.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, (*params, limit, limit))
        for gu, gi, account_id, user_op_id, item_op_id, day, n in cursor.fetchall():
            if gu and gi:
                daily[_as_day(day)] = n
            elif gi:
                people.append((account_id, user_op_id, n))
            else:
                items.append((account_id, item_op_id, n))
    by_count = lambda row: (-row[2], row[0], row[1])  # noqa: E731 - the ranking of `_grouped`
    return sorted(people, key=by_count), sorted(items, key=by_count), daily


def _span(f: UsageFilter) -> tuple[date, date] | None:
    """The chart's first and last day: the filter's range, else the data's."""
    if f.start and f.end:
        return f.start, f.end
    counted = _counted(f)
    bounds = counted.rows.aggregate(first=Min(counted.day), last=Max(counted.day))
    first = f.start or (_as_day(bounds["first"]) if bounds["first"] else None)
    last = f.end or (_as_day(bounds["last"]) if bounds["last"] else None)
    if first is None or last is None or last < first:
        return None
    return first, last


@dataclass(frozen=True)
class Coverage:
    """What the answer rests on, stated on the page, in the API and in every export."""

    events_configured: bool
    data_since: date | None  # first day with stored usage (the daily counts hold every day)
    summarised_before: date | None  # days before this keep daily counts only (None: none do)
    last_import: datetime | None  # the last sync that read the usage feed
    failing_since: datetime | None  # the first of the syncs since then that could not read it
    range_start: date | None
    range_end: date | None
    country_or_ip_filter: bool

    @property
    def range_reaches_summarised(self) -> bool:
        return self.summarised_before is not None and (self.range_start is None or self.range_start < self.summarised_before)

    @property
    def statements(self) -> list[str]:
        if not self.events_configured:
            return ["Item usage is not measured: no Events API is configured."]
        if self.data_since is None:
            return ["Item usage is not measured yet: the Events API has delivered no item-usage event."]
        lines = [f"Stored usage data starts on {self.data_since:%Y-%m-%d} (UTC), from the {FEED}."]
        if self.last_import is not None:
            lines.append(f"Last read of the feed: {self.last_import.astimezone(UTC):%Y-%m-%d %H:%M} UTC; "
                         "each read resumes from the stored cursor, so no day between reads is skipped.")  # fmt: skip
        if self.failing_since is not None:
            lines.append(
                f"Reads of the feed have failed since {self.failing_since.astimezone(UTC):%Y-%m-%d %H:%M} UTC: "
                "usage after the last successful read is missing until a read succeeds."
            )
        if self.range_start is not None and self.range_start < self.data_since:
            lines.append(f"The range starts before that: nothing is known about use before {self.data_since:%Y-%m-%d}.")
        if self.range_reaches_summarised and self.summarised_before is not None:
            lines.append(
                f"Before {self.summarised_before:%Y-%m-%d} usage is kept as daily counts per item, person and action: "
                "those days count in the totals and the timeline but list no single events"
                + (", and are left out here because the counts keep no country or IP." if self.country_or_ip_filter else ".")
            )
        return lines


def coverage(f: UsageFilter) -> Coverage:
    accounts = Account.objects.filter(pk=f.account.pk) if f.account is not None else Account.objects.all()
    configured = accounts.exclude(events_url="").exists()
    # Per account or over all: both are one step down an index (`account__in` would scan every row).
    old = ItemUsageDaily.objects.filter(account=f.account) if f.account is not None else ItemUsageDaily.objects.all()
    span = old.aggregate(first=Min("day"), last=Max("day"))
    raw_firsts = _first_raw_days(f).values()
    summarised_before: date | None = None
    if span["first"] is not None:
        if any(first is None for first in raw_firsts):
            summarised_before = span["last"] + timedelta(days=1)  # an account with no raw event left
        elif min(d for d in raw_firsts if d is not None) > span["first"]:
            summarised_before = min(d for d in raw_firsts if d is not None)
    last_import, failing_since = _reads(f)
    return Coverage(
        events_configured=configured,
        data_since=span["first"],
        summarised_before=summarised_before,
        last_import=last_import,
        failing_since=failing_since,
        range_start=f.start,
        range_end=f.end,
        country_or_ip_filter=bool(f.country or f.ip),
    )


def _reads(f: UsageFilter) -> tuple[datetime | None, datetime | None]:
    """The last sync that read the usage feed, and the first failed read after it (vaults/sync.py
    records the feed's count on success and "Events not read: ..." on failure)."""
    runs = SyncRun.objects.filter(account=f.account) if f.account is not None else SyncRun.objects.all()
    runs = runs.filter(finished_at__isnull=False)
    last = runs.filter(counts__has_key="item_usages").aggregate(last=Max("finished_at"))["last"]
    failed = runs.filter(error__contains=EVENTS_READ_FAILED)
    if last is not None:
        failed = failed.filter(finished_at__gt=last)
    return last, failed.aggregate(first=Min("finished_at"))["first"]


@dataclass(frozen=True)
class EventRow:
    event: ItemUsage
    item: Item | None
    vault_name: str


def with_items(rows: Iterable[ItemUsage]) -> list[EventRow]:
    """Attach each event's item (title, page) and vault name: one query for a page of events."""
    rows = list(rows)
    items = Item.objects.filter(op_id__in={r.item_op_id for r in rows}).select_related("vault").only(
        "pk", "op_id", "title", "vault__name", "vault__op_id", "vault__account_id"
    )
    by_key = {(i.vault.account_id, i.op_id): i for i in items}
    vault_names = {(i.vault.account_id, i.vault.op_id): i.vault.name for i in items}
    missing_vaults = {r.vault_op_id for r in rows if (r.account_id, r.vault_op_id) not in vault_names}
    if missing_vaults:
        for v in Vault.objects.filter(op_id__in=missing_vaults).only("account_id", "op_id", "name"):
            vault_names[(v.account_id, v.op_id)] = v.name
    return [EventRow(r, by_key.get((r.account_id, r.item_op_id)), vault_names.get((r.account_id, r.vault_op_id), "")) for r in rows]
