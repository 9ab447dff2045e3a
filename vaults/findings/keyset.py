"""Keyset pages of the findings list (issue #17 item 3): no OFFSET, no exact COUNT(*).

A page is "the PAGE_SIZE findings after (or before) finding N in the chosen order". The cursor is
just that finding's id: the page reads its sort values (one primary-key probe) and continues from
them, so a link stays short and bookmarkable whatever the title, and the depth costs nothing.

Rows after a cursor in a mixed-direction order such as (-severity_rank, kind, title, id) are not
one range of a B-tree, so they are read as consecutive ranges, one query each, until the page is
full: first the rows sharing the cursor's leading values with a larger tail (a row comparison
over the trailing same-direction fields), then the rows in the next value of the field before,
and so on. Each range is an index scan with LIMIT on the index matching the order (migration
0003's finding_open_order_idx, 0009's for the other sorts); at most three queries, usually one.

The total is counted up to COUNT_CAP rows only: a page says "more than 10,000" rather than
counting 134k rows on every request (the old COUNT(*) cost 150-300 ms of the 208-388 ms page);
a searched list, whose counted rows each cost a check of the words, up to SEARCH_COUNT_CAP. A
caller that knows the exact total (the findings run's counts, vaults/findings/counts.py) passes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Field, Q, QuerySet
from django.db.models.expressions import RawSQL

from vaults.findings.models import Finding
from vaults.findings.search import SORTS

PAGE_SIZE = 50
COUNT_CAP = 10_000
# A searched list counts to a lower cap: each counted row is checked against the query's words (a
# lower() of its text per word, ~1 µs) where the plain list counts index entries. "db password
# prod" matches 62,000 of 244,000 open findings: counting 10,001 of them took 150-300 ms, 1,001 took
# 14-19 ms (bench/bench_findings_list.py, 2 cores at load ≈ 12).
SEARCH_COUNT_CAP = 1_000


@dataclass(frozen=True)
class KeysetPage:
    rows: list[Finding]
    next_after: int | None  # id of the last row when more rows follow
    previous_before: int | None  # id of the first row when rows precede it
    total: int  # exact when `total_capped` is False, else COUNT_CAP
    total_capped: bool

    def __iter__(self) -> Any:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def _column(field: str) -> str:
    name = field.lstrip("-")
    return "id" if name == "pk" else name


def _runs(order: Sequence[str]) -> list[list[str]]:
    """Consecutive fields of the same direction: (-a, b, c, -d) -> [[-a], [b, c], [-d]]."""
    runs: list[list[str]] = []
    for field in order:
        if runs and runs[-1][0].startswith("-") == field.startswith("-"):
            runs[-1].append(field)
        else:
            runs.append([field])
    return runs


def _beyond(run: Sequence[str], values: Sequence[Any]) -> Q | RawSQL:
    """Rows strictly after `values` in the run's direction: a row comparison, which PostgreSQL
    (and SQLite) evaluate as one index range."""
    op = "<" if run[0].startswith("-") else ">"
    if len(run) == 1:
        return Q(**{f"{run[0].lstrip('-')}__{'lt' if op == '<' else 'gt'}": values[0]})
    table = connection.ops.quote_name(Finding._meta.db_table)
    columns = ", ".join(f"{table}.{connection.ops.quote_name(_column(f))}" for f in run)
    marks = ", ".join(["%s"] * len(run))
    # Raw parameters skip the fields' conversion: a datetime must be adapted as its field would (SQLite stores text).
    params = [_db_value(_column(f), v) for f, v in zip(run, values, strict=True)]
    return RawSQL(f"({columns}) {op} ({marks})", params, output_field=BooleanField())  # noqa: S611 — only column names and placeholders


def _db_value(column: str, value: Any) -> Any:
    field = Finding._meta.get_field(column)
    assert isinstance(field, Field)
    return field.get_db_prep_value(value, connection)


def _reverse(order: Sequence[str]) -> list[str]:
    return [f[1:] if f.startswith("-") else f"-{f}" for f in order]


def _values(finding: Finding, order: Sequence[str]) -> list[Any]:
    return [getattr(finding, f.lstrip("-")) for f in order]


def _ids(findings: QuerySet[Finding], order: Sequence[str], limit: int) -> list[int]:
    """Ids only, without the list's joins: with joins PostgreSQL misjudged a row comparison's
    range as one row, hash-joined 15,668 rows and sorted them (505 ms); alone it is an index scan
    that stops at `limit` (0.4 ms)."""
    return list(findings.select_related(None).order_by(*order).values_list("pk", flat=True)[:limit])


def _rows(findings: QuerySet[Finding], ids: list[int]) -> list[Finding]:
    by_id = findings.order_by().in_bulk(ids)
    return [by_id[pk] for pk in ids if pk in by_id]


def _after(findings: QuerySet[Finding], order: Sequence[str], cursor: Finding, limit: int) -> list[int]:
    """Ids of up to `limit` rows of `findings` after `cursor` in `order`, one range query per run."""
    values = _values(cursor, order)
    runs = _runs(order)
    ids: list[int] = []
    start = len(order)
    for run in reversed(runs):
        start -= len(run)
        fixed = {order[i].lstrip("-"): values[i] for i in range(start)}
        ids += _ids(findings.filter(_beyond(run, values[start:start + len(run)]), **fixed), order, limit - len(ids))
        if len(ids) >= limit:
            break
    return ids


def capped_count(findings: QuerySet[Finding], cap: int | None = None) -> tuple[int, bool]:
    """(count, capped): counts at most `cap` (COUNT_CAP) + 1 rows, an index-only scan of a few ms."""
    cap = cap or COUNT_CAP
    n = findings.order_by().values("pk")[: cap + 1].count()
    return (cap, True) if n > cap else (n, False)


def keyset_page(findings: QuerySet[Finding], *, sort: str = "", after: int | None = None, before: int | None = None,
                size: int | None = None, count_cap: int | None = None, total: int | None = None) -> KeysetPage:
    """One page of the filtered `findings`: the first, the one after finding `after`, or the one
    before finding `before` (a vanished cursor row gives the first page). The total is `total`
    when given (exact), else counted up to `count_cap` (COUNT_CAP)."""
    size = size or PAGE_SIZE
    order = list(SORTS.get(sort or "severity", SORTS["severity"]))
    cursor_id, forward = (after, True) if after is not None else (before, False)
    cursor = Finding.objects.filter(pk=cursor_id).only(*{f.lstrip("-") for f in order}).first() if cursor_id else None
    if cursor is None:
        ids = _ids(findings, order, size + 1)
        more_after, more_before = len(ids) > size, False
        ids = ids[:size]
    elif forward:
        ids = _after(findings, order, cursor, size + 1)
        more_after, more_before = len(ids) > size, True
        ids = ids[:size]
    else:
        ids = _after(findings, _reverse(order), cursor, size + 1)
        more_after, more_before = True, len(ids) > size
        ids = list(reversed(ids[:size]))
        if not more_before:  # back at the start: the first page, full, as the first visit showed it
            ids = _ids(findings, order, size)
    rows = _rows(findings, ids)
    capped = False
    if total is None and cursor is None and not more_after and len(ids) <= (count_cap or COUNT_CAP):
        # The first page holds every match: its length is the total. A search that matches few
        # findings (a two-letter word read on every open finding) then reads them once, not twice.
        total = len(ids)
    elif total is None:
        total, capped = capped_count(findings, count_cap)
    return KeysetPage(rows=rows, next_after=rows[-1].pk if rows and more_after else None,
                      previous_before=rows[0].pk if rows and more_before else None, total=total, total_capped=capped)
