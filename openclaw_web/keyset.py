"""Keyset pages for the long lists (issue #17 item 3): no OFFSET, no exact COUNT(*) over large sets.

A page is "the `size` rows after (or before) row N in the list's order". The cursor is just that
row's id: the page reads its sort values (one primary-key probe) and continues from them, so a
link stays short, carries no value a client could forge, and the depth costs nothing. A cursor
row that no longer matches the filter still marks the place; a deleted one gives the first page.

Rows after a cursor in a mixed-direction order such as (-severity_rank, kind, title, id) are not
one range of a B-tree, so they are read as consecutive ranges, one query each, until the page is
full: first the rows sharing the cursor's leading values with a larger tail (a row comparison over
the trailing same-direction fields), then the rows in the next value of the field before, and so
on. A single-direction order (the audit log's -seq, a vault's items by title) is one range query.

The total is counted up to a cap: a page says "more than 10,000" rather than counting every row
on each request. A caller that knows the exact total passes it.

Why not django-cursor-pagination: its cursor is the sort values joined by "|", so a title holding
"|" (1Password titles are user text, hostile ones included) splits into the wrong values, and a
client can hand back any value it likes. An id cursor has neither problem.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypedDict, TypeVar

from django import forms
from django.db import connection
from django.db.models import BooleanField, Field, Model, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import HttpRequest, QueryDict

PAGE_SIZE = 50
COUNT_CAP = 10_000

M = TypeVar("M", bound=Model)
_MAX_ID = 2**63 - 1  # a bigint


class Cursor(TypedDict):
    after: int | None
    before: int | None


class CursorForm(forms.Form):
    """A keyset list's cursor parameters: the id of the row a page continues after or before.
    `page` is accepted and ignored so bookmarks from numbered pages still open (at the first)."""

    after = forms.IntegerField(required=False, min_value=1, max_value=_MAX_ID, widget=forms.HiddenInput)
    before = forms.IntegerField(required=False, min_value=1, max_value=_MAX_ID, widget=forms.HiddenInput)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def cursor(self) -> Cursor:
        return Cursor(after=self.cleaned_data.get("after"), before=self.cleaned_data.get("before"))


@dataclass(frozen=True)
class KeysetPage:
    rows: list[Any]
    next_after: int | None  # id of the last row when more rows follow
    previous_before: int | None  # id of the first row when rows precede it
    total: int  # exact when `total_capped` is False, else the cap
    total_capped: bool

    def __iter__(self) -> Any:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def _field(model: type[Model], field: str) -> Field[Any, Any]:
    """The column an order field ("-title", "pk") sorts on."""
    name = field.lstrip("-")
    concrete = model._meta.pk if name == "pk" else model._meta.get_field(name)
    assert isinstance(concrete, Field) and concrete.concrete, f"keyset order field {name!r} must be a column"
    return concrete


def _runs(order: Sequence[str]) -> list[list[str]]:
    """Consecutive fields of the same direction: (-a, b, c, -d) -> [[-a], [b, c], [-d]]."""
    runs: list[list[str]] = []
    for field in order:
        if runs and runs[-1][0].startswith("-") == field.startswith("-"):
            runs[-1].append(field)
        else:
            runs.append([field])
    return runs


def _beyond(model: type[Model], run: Sequence[str], values: Sequence[Any]) -> Q | RawSQL:
    """Rows strictly after `values` in the run's direction: a row comparison, which PostgreSQL
    (and SQLite) evaluate as one index range."""
    op = "<" if run[0].startswith("-") else ">"
    if len(run) == 1:
        return Q(**{f"{run[0].lstrip('-')}__{'lt' if op == '<' else 'gt'}": values[0]})
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(f"{table}.{connection.ops.quote_name(_field(model, f).column)}" for f in run)
    marks = ", ".join(["%s"] * len(run))
    # Raw parameters skip the fields' conversion: a datetime must be adapted as its field would (SQLite stores text).
    params = [_field(model, f).get_db_prep_value(v, connection) for f, v in zip(run, values, strict=True)]
    return RawSQL(f"({columns}) {op} ({marks})", params, output_field=BooleanField())  # noqa: S611 — only column names and placeholders


def _reverse(order: Sequence[str]) -> list[str]:
    return [f[1:] if f.startswith("-") else f"-{f}" for f in order]


def _values(row: Model, order: Sequence[str]) -> list[Any]:
    return [getattr(row, f.lstrip("-")) for f in order]


def _ids(queryset: QuerySet[Any], order: Sequence[str], limit: int) -> list[int]:
    """Ids only, without the list's joins: with joins PostgreSQL misjudged a row comparison's
    range as one row, hash-joined 15,668 findings and sorted them (505 ms); alone it is an index
    scan that stops at `limit` (0.4 ms)."""
    return list(queryset.select_related(None).order_by(*order).values_list("pk", flat=True)[:limit])


def _rows(queryset: QuerySet[M], ids: list[int]) -> list[M]:
    by_id = queryset.order_by().in_bulk(ids)
    return [by_id[pk] for pk in ids if pk in by_id]


def _after(queryset: QuerySet[Any], order: Sequence[str], cursor: Model, limit: int) -> list[int]:
    """Ids of up to `limit` rows of `queryset` after `cursor` in `order`, one range query per run."""
    values = _values(cursor, order)
    ids: list[int] = []
    start = len(order)
    for run in reversed(_runs(order)):
        start -= len(run)
        fixed = {order[i].lstrip("-"): values[i] for i in range(start)}
        ranged = queryset.filter(_beyond(queryset.model, run, values[start:start + len(run)]), **fixed)
        ids += _ids(ranged, order, limit - len(ids))
        if len(ids) >= limit:
            break
    return ids


def capped_count(queryset: QuerySet[Any], cap: int | None = None) -> tuple[int, bool]:
    """(count, capped): counts at most `cap` (COUNT_CAP) + 1 rows, an index-only scan of a few ms."""
    cap = cap or COUNT_CAP
    n = queryset.order_by().values("pk")[: cap + 1].count()
    return (cap, True) if n > cap else (n, False)


def keyset_page(queryset: QuerySet[M], *, order: Sequence[str], after: int | None = None, before: int | None = None,
                size: int | None = None, count_cap: int | None = None, total: int | None = None) -> KeysetPage:
    """One page of `queryset` in `order`, whose fields are the model's columns and whose last is
    unique ("pk", "seq"): the first page, the one after row `after`, or the one before row
    `before`. The total is `total` when given (exact), else counted up to `count_cap`."""
    order, size = list(order), size or PAGE_SIZE
    cursor_id, forward = (after, True) if after is not None else (before, False)
    columns = {f.lstrip("-") for f in order}
    cursor = queryset.model._default_manager.filter(pk=cursor_id).only(*columns).first() if cursor_id else None
    if cursor is None:
        ids = _ids(queryset, order, size + 1)
        more_after, more_before = len(ids) > size, False
        ids = ids[:size]
    elif forward:
        ids = _after(queryset, order, cursor, size + 1)
        more_after, more_before = len(ids) > size, True
        ids = ids[:size]
    else:
        ids = _after(queryset, _reverse(order), cursor, size + 1)
        more_after, more_before = True, len(ids) > size
        ids = list(reversed(ids[:size]))
        if not more_before:  # back at the start: the first page, full, as the first visit showed it
            ids = _ids(queryset, order, size)
    rows = _rows(queryset, ids)
    capped = False
    if total is None and cursor is None and not more_after and len(ids) <= (count_cap or COUNT_CAP):
        total = len(ids)  # the first page holds every row: its length is the total, no second read
    elif total is None:
        total, capped = capped_count(queryset, count_cap)
    return KeysetPage(rows=rows, next_after=rows[-1].pk if rows and more_after else None,
                      previous_before=rows[0].pk if rows and more_before else None, total=total, total_capped=capped)


def filter_query(request: HttpRequest) -> QueryDict:
    """The list's query string without its cursor: the filter alone (exports, links to other pages).
    `page` goes too: old bookmarks with a page number open at the first page."""
    query = request.GET.copy()
    for key in ("page", "after", "before"):
        query.pop(key, None)
    return query


def page_query(request: HttpRequest, **cursor: int | None) -> str:
    """The list's query string with its filter kept and the cursor replaced ("" when there is no
    such page)."""
    name, value = next(iter(cursor.items()))
    if value is None:
        return ""
    query = filter_query(request)
    query[name] = str(value)
    return query.urlencode()


def page_links(request: HttpRequest, page: KeysetPage) -> dict[str, Any]:
    """What `_keyset_pagination.html` needs besides the page."""
    return {"page": page, "next_query": page_query(request, after=page.next_after),
            "previous_query": page_query(request, before=page.previous_before)}  # fmt: skip
