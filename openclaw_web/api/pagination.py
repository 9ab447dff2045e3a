"""Cursor pagination: keyset over a fixed ordering, with an opaque signed cursor.

A cursor holds the ordering values of the last row of a page, signed with SECRET_KEY, so a
client cannot hand back values the server never produced (no type errors, no integer overflow,
no probing): a tampered or foreign cursor is a 400. Keyset pages stay consistent while rows are
added, and cost one indexed range query whatever the depth.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from django.core import signing
from django.db.models import Model, Q, QuerySet
from ninja.errors import HttpError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
_SALT = "openclaw.api.cursor"

M = TypeVar("M", bound=Model)


def _encode(order: Sequence[str], row: Model) -> str:
    values = []
    for field in order:
        value = getattr(row, field.lstrip("-"))
        values.append(value.isoformat() if hasattr(value, "isoformat") else value)
    return signing.dumps({"o": list(order), "v": values}, salt=_SALT, compress=True)


def _decode(order: Sequence[str], cursor: str) -> list[Any]:
    try:
        data = signing.loads(cursor, salt=_SALT)
    except signing.BadSignature:
        raise HttpError(400, "Invalid cursor: pass back the next_cursor of a previous page unchanged.") from None
    if not isinstance(data, dict) or data.get("o") != list(order) or len(data.get("v", [])) != len(order):
        raise HttpError(400, "This cursor belongs to another listing.")
    return list(data["v"])


def _after(order: Sequence[str], values: Sequence[Any]) -> Q:
    """Rows strictly after `values` in `order`: (a > x) OR (a = x AND b > y) OR ..."""
    condition = Q(pk__in=[])
    for i, field in enumerate(order):
        name = field.lstrip("-")
        step = Q(**{f"{name}__{'lt' if field.startswith('-') else 'gt'}": values[i]})
        for previous, value in zip(order[:i], values[:i], strict=True):
            step &= Q(**{previous.lstrip("-"): value})
        condition |= step
    return condition


def paginate(queryset: QuerySet[M], *, order: Sequence[str], cursor: str | None, limit: int) -> dict[str, Any]:
    """One page of `queryset` in `order` (whose last field must be unique, e.g. "id").

    Returns {"results": rows, "next_cursor": str | None}; `next_cursor` is None on the last page."""
    limit = max(1, min(limit, MAX_LIMIT))
    queryset = queryset.order_by(*order)
    if cursor:
        queryset = queryset.filter(_after(order, _decode(order, cursor)))
    rows = list(queryset[: limit + 1])
    next_cursor = _encode(order, rows[limit - 1]) if len(rows) > limit else None
    return {"results": rows[:limit], "next_cursor": next_cursor}
