"""`update_rows`: the sync's bulk UPDATE of many rows, each with its own values.

Django's `bulk_update` builds one `CASE WHEN id = ... THEN ...` expression per field and row and
resolves each through the ORM: storing 100 item details cost ~18 ms of Python per item, about
90% of the sync thread's CPU at 2,000 items (py-spy, bench/bench_sync.py), and the sync's
single storing thread fell behind the op processes. On PostgreSQL one statement per batch does
it instead::

    UPDATE t SET a = v.a, ... FROM (VALUES (%s::bigint, %s::type, ...), ...) AS v (id, a, ...)
    WHERE t.id = v.id AND (t.a, ...) IS DISTINCT FROM (v.a, ...)

Values are prepared by each field exactly as `bulk_update` prepares them (`get_db_prep_save`), and
cast to the column's type without its length, so a too-long value fails on assignment as before.
A row whose values are all equal to the stored ones is not written: the rows end up the same, the
findings change log (migration findings 0012, which logs only rows whose values differ) gets the
same entries, and PostgreSQL writes no dead tuple for a re-read that changed nothing. Other
databases (SQLite, the demo) keep `bulk_update`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Field, Model

# Rows per statement: large enough that one statement stores a sync's DETAIL_BATCH, small enough
# to stay far below PostgreSQL's 65,535 parameters for any model here.
BATCH_ROWS = 500


def update_rows(model: type[Model], rows: Sequence[Model], fields: Sequence[str]) -> int:
    """Write `fields` of each of `rows` (saved instances) to its row; returns how many rows the
    database wrote (on PostgreSQL: only those with a value that differs)."""
    if not rows:
        return 0
    if any(row.pk is None for row in rows):
        raise ValueError("update_rows() can only update saved rows")
    # One VALUES row per primary key: PostgreSQL would apply an arbitrary one of two (bulk_update the
    # first), so two different objects for one row are refused; the same object twice is written once.
    by_pk: dict[Any, Model] = {}
    for row in rows:
        if by_pk.setdefault(row.pk, row) is not row:
            raise ValueError(f"update_rows() got two different objects for row {row.pk}")
    rows = list(by_pk.values())
    if connection.vendor != "postgresql":
        return model._default_manager.bulk_update(rows, list(fields), batch_size=BATCH_ROWS)
    meta = model._meta
    concrete = [field for name in fields if isinstance(field := meta.get_field(name), Field)]
    if len(concrete) != len(fields):
        raise ValueError("update_rows() writes concrete fields only")
    pk = meta.pk
    assert pk is not None
    written = 0
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH_ROWS):
            batch = rows[start : start + BATCH_ROWS]
            sql, params = _statement(meta.db_table, pk, concrete, batch)
            cursor.execute(sql, params)
            written += cursor.rowcount
    return written


def _cast(field: Field[Any, Any]) -> str:
    """The column's type without a length: `varchar(64)` casts as `varchar` (an explicit cast to
    varchar(64) would cut a longer value silently; the assignment then refuses it, as an INSERT
    would)."""
    db_type = field.db_type(connection)
    assert db_type is not None, f"{field} has no column"
    return re.sub(r"\([^)]*\)", "", db_type)  # every length: varchar(64)[] casts as varchar[]


def _statement(
    table: str, pk: Field[Any, Any], fields: list[Field[Any, Any]], rows: Sequence[Model]
) -> tuple[str, list[Any]]:
    quote = connection.ops.quote_name
    columns = [pk, *fields]
    placeholder = "(" + ", ".join(f"%s::{_cast(f)}" for f in columns) + ")"
    params: list[Any] = []
    for row in rows:
        for field in columns:
            params.append(field.get_db_prep_save(getattr(row, field.attname), connection))
    names = [quote(f.column) for f in columns]
    target = [quote(f.column) for f in fields]
    assignments = ", ".join(f"{name} = v.{name}" for name in target)
    old = ", ".join(f"t.{name}" for name in target)
    new = ", ".join(f"v.{name}" for name in target)
    # ROW(...) so a single field still compares as a row.
    sql = (
        f"UPDATE {quote(table)} AS t SET {assignments} "  # noqa: S608 — names from the model, values as parameters
        f"FROM (VALUES {', '.join([placeholder] * len(rows))}) AS v ({', '.join(names)}) "
        f"WHERE t.{names[0]} = v.{names[0]} AND ROW({old}) IS DISTINCT FROM ROW({new})"
    )
    return sql, params
