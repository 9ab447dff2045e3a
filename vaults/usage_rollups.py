"""Usage counts from the coarser rollups of migration 0012, where a filter allows them.

Each function answers exactly what the daily counts would (tests/vaults/test_usage_rollups.py
compares them with the raw events), reading far fewer rows for broad filters:
- per person: months from ItemUsagePersonMonth, plus or minus days from ItemUsagePersonDay (`cover`:
  a partial month mostly inside the range is its total minus the days outside; a 13-month range
  reads ~80k rows, not 5 million);
- the timeline: ItemUsageAccountDay (no vault, item or person filter), ItemUsageVaultDay (no person
  filter) or ItemUsagePersonDay (no item filter);
- per item, top N: a threshold algorithm over ItemUsageItemMonth (see `top_items`), for filters on
  account, action and one item only;
- a tag (migration 0014): per person from ItemUsageTagMonth, the timeline from ItemUsageTagDay, and
  per item every tagged item's months from ItemUsageItemMonth (`_tag_rollup`).
A filter a rollup cannot answer (an item attribute for per-person counts, a person for per-item
counts, country or IP for anything) returns None here, and the caller reads the daily counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet, Sum

from vaults.models import (
    ItemUsageAccountDay,
    ItemUsageDaily,
    ItemUsageItemMonth,
    ItemUsagePersonDay,
    ItemUsagePersonMonth,
    ItemUsageTagDay,
    ItemUsageTagMonth,
    ItemUsageVaultDay,
)
from vaults.models.events import TAG_ROLLUP_MAX_LENGTH
from vaults.usage_filter import UsageFilter

Scope = Callable[[QuerySet[Any], "UsageFilter"], QuerySet[Any]]
Grouped = list[tuple[int, str, int]]

# The top-N reads the K most-used items of every (account, month, action) list, K = N * 2 + 10 at
# first and four times more on each retry. On the benchmark's skew (bench/bench_usage.py) the
# first K proves the top 20 and the top 100; past MAX_LIST_DEPTH rows a list is no cheaper than
# the daily counts, which then answer.
FIRST_DEPTH_FACTOR = 2
MAX_LIST_DEPTH = 5000


def _item_attribute(f: UsageFilter) -> bool:
    return bool(f.item or f.vault or f.classification or f.title or f.tag)


def _person_attribute(f: UsageFilter) -> bool:
    return bool(f.person or f.group)


def _raw_only(f: UsageFilter) -> bool:
    return bool(f.country or f.ip)


def _tag_rollup(f: UsageFilter) -> bool:
    """A tag filter the tag rollups answer: PostgreSQL (SQLite keeps them empty), a tag short enough
    to be rolled up, and no other item attribute (they keep no vault, item or title)."""
    return (connection.vendor == "postgresql" and bool(f.tag) and len(f.tag) <= TAG_ROLLUP_MAX_LENGTH
            and not (f.item or f.vault or f.classification or f.title or _raw_only(f)))  # fmt: skip


def _tagged(model: Any, f: UsageFilter, scoped: Scope) -> QuerySet[Any]:
    """A tag rollup's rows under `f`: the tag is a column there, the rest filters as elsewhere."""
    return scoped(model.objects.all(), replace(f, tag="")).filter(tag=f.tag)


@dataclass(frozen=True)
class Split:
    """A day range as whole months (first days of the first and last, or None) plus edge day ranges."""

    months: tuple[date, date] | None
    edges: list[tuple[date, date]]
    touched_months: list[date]  # every month the range reaches, whole or not


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def split(first: date, last: date) -> Split:
    whole_from = first if first.day == 1 else _next_month(first)
    after_last = last + timedelta(days=1)
    whole_to_exclusive = after_last if after_last.day == 1 else _month_start(after_last)
    touched = []
    cursor = _month_start(first)
    while cursor <= last:
        touched.append(cursor)
        cursor = _next_month(cursor)
    if whole_from >= whole_to_exclusive:
        return Split(None, [(first, last)], touched)
    edges = []
    if first < whole_from:
        edges.append((first, whole_from - timedelta(days=1)))
    if whole_to_exclusive <= last:
        edges.append((whole_to_exclusive, last))
    last_whole = _month_start(whole_to_exclusive - timedelta(days=1))
    return Split((whole_from, last_whole), edges, touched)


@dataclass(frozen=True)
class Cover:
    """A day range as monthly totals plus and minus day ranges: each day of the range counted once.

    A partial month with more days inside the range than outside is its monthly total minus the
    days outside (`subtract`); otherwise its days inside are read (`add`). The range ending today
    is then the current month's total minus the days still to come (no rows): the default last
    30 days read 2 days of daily rows instead of 30. Exact because the monthly and daily rows are
    kept from the same raw events (migrations 0010, 0012)."""

    months: tuple[date, date] | None  # first days of the first and last month whose totals are added
    add: list[tuple[date, date]]
    subtract: list[tuple[date, date]]

    @staticmethod
    def ranges(days: list[tuple[date, date]]) -> list[Q]:
        """One condition per day range, each read by its own query: `day` in one range is an index
        condition, an OR of two ranges is only a filter. A group's edge days over 90 days read each
        member's whole history that way, 1,485 rows a member for 106 kept (468 ms at load 13)."""
        return [Q(day__gte=first, day__lte=last) for first, last in days]


def cover(first: date, last: date) -> Cover:
    months: list[date] = []
    add: list[tuple[date, date]] = []
    subtract: list[tuple[date, date]] = []
    month = _month_start(first)
    while month <= last:
        month_end = _next_month(month) - timedelta(days=1)
        inside = (max(first, month), min(last, month_end))
        before, after = (month, inside[0] - timedelta(days=1)), (inside[1] + timedelta(days=1), month_end)
        outside = [r for r in (before, after) if r[0] <= r[1]]
        days_outside = sum((b - a).days + 1 for a, b in outside)
        if days_outside < (inside[1] - inside[0]).days + 1:
            months.append(month)
            subtract += outside
        elif add and add[-1][1] + timedelta(days=1) == inside[0]:
            add[-1] = (add[-1][0], inside[1])  # one query for days running on into the next month
        else:
            add.append(inside)
        month = _next_month(month)
    # Only the first and last month can be partial, so the months added are consecutive.
    return Cover((months[0], months[-1]) if months else None, add, subtract)


def _ranked(rows: dict[tuple[int, str], int], limit: int | None) -> Grouped:
    """Most uses first, ties by account then id in byte order, as usage_audit._grouped ranks."""
    ordered = sorted(((a, op_id, n) for (a, op_id), n in rows.items() if n > 0), key=lambda r: (-r[2], r[0], r[1].encode()))
    return ordered[:limit] if limit else ordered


def _sum_into(totals: dict[tuple[int, str], int], rows: QuerySet[Any], column: str, sign: int = 1) -> None:
    for account_id, op_id, n in rows.values_list("account_id", column).annotate(n=Sum("count")).values_list("account_id", column, "n"):
        totals[(account_id, op_id)] = totals.get((account_id, op_id), 0) + sign * n


def _covered(totals: dict[tuple[int, str], int], parts: Cover, months: QuerySet[Any], days: QuerySet[Any],
             column: str) -> None:  # fmt: skip
    """Add each key's uses over `parts`: monthly rows of `months`, plus and minus daily rows of `days`."""
    if parts.months:
        _sum_into(totals, months.filter(month__gte=parts.months[0], month__lte=parts.months[1]).order_by(), column)
    for days_in in Cover.ranges(parts.add):
        _sum_into(totals, days.filter(days_in).order_by(), column)
    for days_out in Cover.ranges(parts.subtract):
        _sum_into(totals, days.filter(days_out).order_by(), column, sign=-1)


def people(f: UsageFilter, scoped: Scope, first: date, last: date, limit: int | None) -> Grouped | None:
    """Uses per person over [first, last], or None when an item attribute or country/IP filters."""
    totals: dict[tuple[int, str], int] = {}
    if _tag_rollup(f):  # a tag's months; the days around them from the daily counts of its items
        months, days = _tagged(ItemUsageTagMonth, f, scoped), scoped(ItemUsageDaily.objects.all(), f)
    elif _item_attribute(f) or _raw_only(f):
        return None
    else:
        months, days = scoped(ItemUsagePersonMonth.objects.all(), f), scoped(ItemUsagePersonDay.objects.all(), f)
    _covered(totals, cover(first, last), months, days, "user_op_id")
    return _ranked(totals, limit)


def daily_totals(f: UsageFilter, scoped: Scope, first: date, last: date) -> dict[date, int] | None:
    """Uses per day over [first, last] from a per-vault, per-person or per-tag day rollup, or None."""
    if _tag_rollup(f) and not _person_attribute(f):
        rows = _tagged(ItemUsageTagDay, f, scoped)
    elif _raw_only(f) or f.item or f.title or f.tag:
        return None
    elif not _person_attribute(f) and not (f.vault or f.classification):
        rows = scoped(ItemUsageAccountDay.objects.all(), f)
    elif not _person_attribute(f):
        rows = scoped(ItemUsageVaultDay.objects.all(), f)
    elif not (f.vault or f.classification):
        rows = scoped(ItemUsagePersonDay.objects.all(), f)
    else:
        return None
    rows = rows.filter(day__gte=first, day__lte=last).order_by()
    return dict(rows.values_list("day").annotate(n=Sum("count")).values_list("day", "n"))


def top_items(f: UsageFilter, scoped: Scope, first: date, last: date, limit: int) -> Grouped | None:
    """The `limit` most-used items over [first, last], exactly; None when the rollup cannot say.

    A threshold algorithm (Fagin's): every (account, month, action) the range touches is one list
    of items sorted by count (the `usageitemmonth_ranked` index; an item is one row per list).
    1. Read the K most-used matching items of each list; they are the candidates.
    2. An item outside a list's first K has at most that list's K-th count there (a partial
       month counts no more than its whole month), so any item never read has at most the sum
       of the full lists' K-th counts: the bound.
    3. Bound each candidate from the lists alone (`_candidate_bounds`). When the N-th highest
       upper bound is not above the bound, no count can prove the top N: K grows at once.
    4. Count exactly, months from the monthly rows, plus or minus days from the daily counts
       (`cover`), only the candidates whose upper bound reaches the N-th highest lower bound: N
       candidates are sure to have at least that many uses, so one below it is never in the top N.
    5. If the N-th candidate has more uses than the bound (or every list was read to its end),
       no unread item can enter the top N and the answer is exact; otherwise K grows.
    PostgreSQL only (LATERAL); the embedded SQLite demo reads the daily counts."""
    if connection.vendor != "postgresql" or _person_attribute(f) or _raw_only(f) or f.vault or f.classification:
        return None
    if _tag_rollup(f):
        # Every tagged item's months and edge days: ~120 ms for a tag's 10,000 items over 13 months
        # on the benchmark, where the daily counts' one scan took ~250 ms for all three counts.
        return _ranked(_item_totals(f, scoped, cover(first, last)), limit)
    # A title (or a tag too long to be rolled up) makes each list's first K matching rows a walk
    # past the others: twice as slow as the daily counts' one scan on the benchmark (5.2 s against
    # 2.6 s for a tag over 13 months, at load 16), so those filters read the daily counts.
    if f.title or f.tag:
        return None
    parts = split(first, last)
    # The lists: every (account, month, action) with use, from the small per-person rollup.
    months = ItemUsagePersonMonth.objects.filter(month__in=parts.touched_months)
    if f.account is not None:
        months = months.filter(account=f.account)
    if f.action:
        months = months.filter(action=f.action)
    lists = list(months.order_by().values_list("account_id", "month", "action").distinct())
    if not lists:
        return []
    matching = scoped(ItemUsageItemMonth.objects.all(), f).order_by().values_list("account_id", "item_op_id", "count", "month", "action")
    depth = limit * FIRST_DEPTH_FACTOR + 10
    counted = cover(first, last)
    outside = _uses_outside(f, first, last)
    while depth <= MAX_LIST_DEPTH:
        read = _read_lists(matching, lists, depth)
        bounds = _candidate_bounds(read, outside)
        highest_upper = sorted((upper for _, upper in bounds.values()), reverse=True)
        if read.bound and (len(highest_upper) < limit or highest_upper[limit - 1] <= read.bound):
            depth *= 4  # the N-th count is at most its upper bound: it cannot beat the bound
            continue
        lowers = sorted((lower for lower, _ in bounds.values()), reverse=True)
        lowest_sure = lowers[limit - 1] if len(lowers) >= limit else 0
        # `>=`, not `>`: a candidate whose upper bound ties the N-th lower bound may tie the N-th
        # count and win the tie by its id. On the 1M-event bench, everything over 13 months: 309 of
        # 4,107 candidates counted (top 100: 314 -> 147 ms median, load 1.5).
        kept = {key for key, (_, upper) in bounds.items() if upper >= lowest_sure}
        ranked = _ranked(_exact(f, scoped, counted, kept), None)
        if read.bound == 0 or (len(ranked) >= limit and ranked[limit - 1][2] > read.bound):
            return ranked[:limit]
        depth *= 4
    return None


ListKey = tuple[int, date, str]  # (account_id, month, action): one list


@dataclass(frozen=True)
class ListRead:
    """The first rows of every list: each candidate's count in the lists it was read from, and per
    list the most an item not read there can have (its last count read; 0 when read to its end)."""

    counts: dict[tuple[int, str], dict[ListKey, int]]
    floors: dict[ListKey, int]

    @property
    def bound(self) -> int:
        """The most uses an item read from no list can have."""
        return sum(self.floors.values())


def _read_lists(matching: QuerySet[Any], lists: list[tuple[int, date, str]], depth: int) -> ListRead:
    """The first `depth` rows of each list (most-used first), and the bound on any item not among them."""
    inner_sql, inner_params = matching.query.sql_with_params()
    values = ", ".join(["(%s::bigint, %s::date, %s::varchar)"] * len(lists))
    # The matching rows as a subquery PostgreSQL pulls up into each list's LATERAL scan, so every
    # list walks the (account, month, action, count DESC) index and stops after `depth` rows.
    # Only Django's compiled SQL is interpolated; values travel as params.
    sql = (
        "SELECT l.account_id, l.month, l.action, t.item_op_id, t.n, t.rn FROM (VALUES "  # noqa: S608
        f"{values}) AS l(account_id, month, action) CROSS JOIN LATERAL ("
        " SELECT m.item_op_id, m.count AS n, row_number() OVER (ORDER BY m.count DESC) AS rn"
        f" FROM ({inner_sql}) AS m WHERE m.account_id = l.account_id AND m.month = l.month AND m.action = l.action"
        " ORDER BY m.count DESC LIMIT %s) AS t"
    )
    params: list[Any] = [v for row in lists for v in row]
    counts: dict[tuple[int, str], dict[ListKey, int]] = {}
    last_in_list: dict[ListKey, tuple[int, int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, (*params, *inner_params, depth))
        for account_id, month, action, item_op_id, n, rn in cursor.fetchall():
            key = (account_id, month, action)
            counts.setdefault((account_id, item_op_id), {})[key] = n
            if rn >= last_in_list.get(key, (0, 0))[0]:
                last_in_list[key] = (rn, n)
    floors = {key: n for key, (rn, n) in last_in_list.items() if rn >= depth}
    return ListRead(counts, floors)


def _uses_outside(f: UsageFilter, first: date, last: date) -> dict[ListKey, int]:
    """Per list of a partly covered month: every item's uses on its days outside [first, last]
    (ItemUsageAccountDay, a few rows a day). One item's uses there are at most these."""
    before = (_month_start(first), first - timedelta(days=1))
    after = (last + timedelta(days=1), _next_month(last) - timedelta(days=1))
    rows = ItemUsageAccountDay.objects.all()
    if f.account is not None:
        rows = rows.filter(account=f.account)
    if f.action:
        rows = rows.filter(action=f.action)
    outside: dict[ListKey, int] = {}
    for days_out in Cover.ranges([(a, b) for a, b in (before, after) if a <= b]):
        for account_id, day, action, n in rows.filter(days_out).values_list("account_id", "day", "action", "count"):
            key = (account_id, _month_start(day), action)
            outside[key] = outside.get(key, 0) + n
    return outside


def _candidate_bounds(read: ListRead, outside: dict[ListKey, int]) -> dict[tuple[int, str], tuple[int, int]]:
    """(lower, upper) uses over the range for each candidate, from the lists alone.

    In a list it was read from, a candidate has its monthly count `c` at most (a partial month
    counts no more than its whole month) and at least `c` minus every item's uses on the month's
    days outside the range (`outside`; 0 for a whole month). In a list it was not read from it has
    at least 0 and at most the list's floor."""
    floors_per_account: dict[int, int] = {}
    for (account_id, _, _), floor in read.floors.items():
        floors_per_account[account_id] = floors_per_account.get(account_id, 0) + floor
    bounds: dict[tuple[int, str], tuple[int, int]] = {}
    for (account_id, op_id), in_lists in read.counts.items():
        lower, upper = 0, floors_per_account.get(account_id, 0)
        for key, n in in_lists.items():
            lower += max(0, n - outside.get(key, 0))
            upper += n - read.floors.get(key, 0)
        bounds[(account_id, op_id)] = (lower, upper)
    return bounds


def _item_totals(f: UsageFilter, scoped: Scope, parts: Cover, ids: set[str] | None = None) -> dict[tuple[int, str], int]:
    """Uses per item over `parts` (of the items `ids`, or every matching item): monthly rows plus
    and minus daily counts."""
    months, days = scoped(ItemUsageItemMonth.objects.all(), f), scoped(ItemUsageDaily.objects.all(), f)
    if ids is not None:
        months, days = months.filter(item_op_id__in=ids), days.filter(item_op_id__in=ids)
    totals: dict[tuple[int, str], int] = {}
    _covered(totals, parts, months, days, "item_op_id")
    return totals


def _exact(f: UsageFilter, scoped: Scope, parts: Cover, candidates: set[tuple[int, str]]) -> dict[tuple[int, str], int]:
    totals = _item_totals(f, scoped, parts, {op_id for _, op_id in candidates})
    return {key: n for key, n in totals.items() if key in candidates}
