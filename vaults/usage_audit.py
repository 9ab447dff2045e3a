"""Usage audit: who used which item, when, from where and how, for any filter and time range.

One filter (`UsageFilter`) drives the page, the API and the exports, so they always agree.
Usage lives in two tables (vaults/usage_retention.py): raw events (`ItemUsage`) and, before the
retention cutoff, daily counts (`ItemUsageDaily`). A range reaching past the cutoff:
- lists only raw events (the summarised days have no single events any more),
- counts per person, per item and on the timeline both (daily counts added to raw counts),
- cannot filter the summarised days by country or IP (the counts do not keep them), so with a
  country or IP filter only raw events count; `Coverage` says so in words.
A group filter means the group's *current* members (memberships as of the last sync), applied to
the whole range: a person who left the group still counts if they are in it now, not otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import Collate, TruncDate, TruncWeek

from vaults.findings.usage_coverage import FEED
from vaults.models import Account, GroupMembership, Item, ItemUsage, ItemUsageDaily, OpGroup, OpUser, Vault
from vaults.usage_retention import retention_cutoff

# Daily buckets up to a quarter; weekly beyond, so a year's chart stays readable (~53 points).
DAILY_BUCKET_MAX_DAYS = 92
TOP_ROWS = 20
# Memory for the one-scan summary's hashes and sorts, this transaction only. With PostgreSQL's
# default 4 MB, a month of a 1,000-person organisation's usage (386k events, 89k groups) spilled
# to disk in three places (840 ms at load 7; 700 ms with this value, all in memory).
SUMMARY_WORK_MEM = "64MB"


@dataclass(frozen=True)
class UsageFilter:
    account: Account | None = None
    vault: Vault | None = None
    item: Item | None = None
    title: str = ""  # part of the item title, case-insensitive
    tag: str = ""  # one of the item's tags, exactly
    classification: str = ""  # the vault's classification
    person: OpUser | None = None
    group: OpGroup | None = None  # current members (module docstring)
    action: str = ""
    country: str = ""
    ip: str = ""  # an address, or a prefix ending in "." or ":" ("203.0.113.")
    start: date | None = None  # first day, inclusive (UTC)
    end: date | None = None  # last day, inclusive (UTC)

    @property
    def start_at(self) -> datetime | None:
        return datetime.combine(self.start, time.min, tzinfo=UTC) if self.start else None

    @property
    def end_before(self) -> datetime | None:
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC) if self.end else None


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


def daily_counts(f: UsageFilter) -> QuerySet[ItemUsageDaily]:
    """Summarised days matching `f`; none with a country or IP filter (the counts keep neither)."""
    if f.country or f.ip:
        return ItemUsageDaily.objects.none()
    rows = _scoped(ItemUsageDaily.objects.all(), f)
    if f.start:
        rows = rows.filter(day__gte=f.start)
    if f.end:
        rows = rows.filter(day__lte=f.end)
    return rows


def _reaches_summarised_days(f: UsageFilter) -> bool:
    cutoff = retention_cutoff()
    return cutoff is not None and (f.start is None or f.start < cutoff.date())


@dataclass(frozen=True)
class CountRow:
    account_id: int
    op_id: str
    count: int
    label: str = ""
    detail: str = ""
    pk: int | None = None  # the person's or item's page, when still known


def _merge(raw: Iterable[tuple[int, str, int]], summarised: Iterable[tuple[int, str, int]]) -> list[tuple[int, str, int]]:
    totals: dict[tuple[int, str], int] = defaultdict(int)
    for account_id, op_id, n in (*raw, *summarised):
        totals[(account_id, op_id)] += n
    return sorted(((a, o, n) for (a, o), n in totals.items()), key=lambda r: (-r[2], r[0], r[1]))


def _grouped(f: UsageFilter, column: str, limit: int | None) -> list[tuple[int, str, int]]:
    """(account_id, op_id, uses) per `column`, most uses first: GROUP BY in the database."""
    # Ties by id in byte order ("C"): the same on both paths, and a quarter of the one-scan
    # summary's time went into sorting ids by the database's locale collation.
    order = Collate(column, "C") if connection.vendor == "postgresql" else F(column)
    raw = events(f).order_by().values_list("account_id", column).annotate(n=Count("id")).order_by("-n", "account_id", order)
    if not _reaches_summarised_days(f):
        return list(raw[:limit] if limit else raw)
    old = daily_counts(f).order_by().values_list("account_id", column).annotate(n=Sum("count"))
    merged = _merge(raw, old)  # both lists whole: a top-N of each would miss a row split between them
    return merged[:limit] if limit else merged


def counts_per_person(f: UsageFilter, *, limit: int | None = TOP_ROWS) -> list[CountRow]:
    return _people_rows(_grouped(f, "user_op_id", limit))


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
        rows.append(CountRow(account_id, op_id, n, label=label, detail=person.email if person else "",
                             pk=person.pk if person else None))  # fmt: skip
    return rows


def counts_per_item(f: UsageFilter, *, limit: int | None = TOP_ROWS) -> list[CountRow]:
    return _item_rows(_grouped(f, "item_op_id", limit))


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


def _bucket(weekly: bool) -> TruncWeek | TruncDate:
    return TruncWeek("timestamp", tzinfo=UTC) if weekly else TruncDate("timestamp", tzinfo=UTC)


def _as_day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _filled(first: date, last: date, weekly: bool, totals: dict[date, int]) -> Timeline:
    step = timedelta(days=7 if weekly else 1)
    cursor = first - timedelta(days=first.weekday()) if weekly else first
    points = []
    while cursor <= last:
        points.append((cursor, totals.get(cursor, 0)))
        cursor += step
    return Timeline("week" if weekly else "day", points)


def timeline(f: UsageFilter) -> Timeline:
    """Uses per day (up to a quarter) or per week (Monday), zero-filled from start to end."""
    raw = events(f).order_by()
    span = _span(f, raw)
    if span is None:
        return Timeline("day")
    first, last = span
    weekly = (last - first).days > DAILY_BUCKET_MAX_DAYS
    totals: dict[date, int] = defaultdict(int)
    for when, n in raw.annotate(b=_bucket(weekly)).values_list("b").annotate(n=Count("id")).values_list("b", "n"):
        totals[_as_day(when)] += n
    if _reaches_summarised_days(f):
        for day, n in daily_counts(f).order_by().values_list("day").annotate(n=Sum("count")).values_list("day", "n"):
            totals[day - timedelta(days=day.weekday()) if weekly else day] += n
    return _filled(first, last, weekly, totals)


@dataclass(frozen=True)
class Summary:
    people: list[CountRow]
    items: list[CountRow]
    timeline: Timeline


def summary(f: UsageFilter, *, limit: int = TOP_ROWS) -> Summary:
    """Counts per person and per item (top `limit` each) and the timeline.

    On PostgreSQL, within the raw-event period, one scan of the matching events answers all three
    (GROUPING SETS): three separate GROUP BYs read the same rows three times, which is what made a
    month of an organisation's usage slow (bench/bench_usage.py). Elsewhere, the three queries."""
    if connection.vendor != "postgresql" or _reaches_summarised_days(f):
        return Summary(counts_per_person(f, limit=limit), counts_per_item(f, limit=limit), timeline(f))
    raw = events(f).order_by()
    span = _span(f, raw)
    if span is None:
        return Summary([], [], Timeline("day"))
    first, last = span
    weekly = (last - first).days > DAILY_BUCKET_MAX_DAYS
    matched_sql, params = raw.annotate(b=_bucket(weekly)).values_list("account_id", "user_op_id", "item_op_id", "b").query.sql_with_params()
    # In the person set item_op_id is grouped away (gi = 1), in the item set user_op_id (gu = 1),
    # in the timeline set both. Ties break as in `_grouped`, so both paths rank alike. Only
    # Django's compiled SQL is interpolated; values travel as params.
    sql = (
        "SELECT gu, gi, account_id, user_op_id, item_op_id, b, n FROM ("  # noqa: S608
        " SELECT *, row_number() OVER (PARTITION BY gu, gi ORDER BY n DESC, account_id, user_op_id COLLATE \"C\","
        "  item_op_id COLLATE \"C\") AS rn FROM ("
        "  SELECT GROUPING(user_op_id) AS gu, GROUPING(item_op_id) AS gi, account_id, user_op_id, item_op_id, b, COUNT(*) AS n"
        f"  FROM ({matched_sql}) AS matched"
        "  GROUP BY GROUPING SETS ((account_id, user_op_id), (account_id, item_op_id), (b))"
        " ) AS grouped"
        ") AS ranked WHERE rn <= %s OR (gu = 1 AND gi = 1)"
    )
    people: list[tuple[int, str, int]] = []
    items: list[tuple[int, str, int]] = []
    totals: dict[date, int] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL work_mem = '{SUMMARY_WORK_MEM}'")
        cursor.execute(sql, (*params, limit))
        for gu, gi, account_id, user_op_id, item_op_id, bucket, n in cursor.fetchall():
            if gu and gi:
                totals[_as_day(bucket)] = n
            elif gi:
                people.append((account_id, user_op_id, n))
            else:
                items.append((account_id, item_op_id, n))
    by_count = lambda row: (-row[2], row[0], row[1])  # noqa: E731 - the ranking of `_grouped`
    return Summary(_people_rows(sorted(people, key=by_count)), _item_rows(sorted(items, key=by_count)),
                   _filled(first, last, weekly, totals))  # fmt: skip


def _span(f: UsageFilter, raw: QuerySet[ItemUsage]) -> tuple[date, date] | None:
    """The chart's first and last day: the filter's range, else the data's."""
    if f.start and f.end:
        return f.start, f.end
    bounds = raw.aggregate(first=Min("timestamp"), last=Max("timestamp"))
    first = f.start or (bounds["first"].astimezone(UTC).date() if bounds["first"] else None)
    last = f.end or (bounds["last"].astimezone(UTC).date() if bounds["last"] else None)
    if _reaches_summarised_days(f):
        old = daily_counts(f).aggregate(first=Min("day"), last=Max("day"))
        first = min(d for d in (first, old["first"]) if d is not None) if (first or old["first"]) else None
        last = max(d for d in (last, old["last"]) if d is not None) if (last or old["last"]) else None
    if first is None or last is None or last < first:
        return None
    return first, last


@dataclass(frozen=True)
class Coverage:
    """What the answer rests on, stated on the page, in the API and in every export."""

    events_configured: bool
    data_since: date | None  # first day with stored usage, raw or summarised
    summarised_before: date | None  # days before this are daily counts only (None: none are)
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
    raw = ItemUsage.objects.filter(account=f.account) if f.account is not None else ItemUsage.objects.all()
    old = ItemUsageDaily.objects.filter(account=f.account) if f.account is not None else ItemUsageDaily.objects.all()
    raw_first = raw.aggregate(first=Min("timestamp"))["first"]
    old_first = old.aggregate(first=Min("day"))["first"]
    firsts = [d for d in (raw_first.astimezone(UTC).date() if raw_first else None, old_first) if d is not None]
    cutoff = retention_cutoff()
    summarised_before = cutoff.date() if cutoff is not None and old_first is not None else None
    return Coverage(
        events_configured=configured,
        data_since=min(firsts) if firsts else None,
        summarised_before=summarised_before,
        range_start=f.start,
        range_end=f.end,
        country_or_ip_filter=bool(f.country or f.ip),
    )


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
