"""Portable SQL expressions over JSON list columns (Item.tags, Item.urls, Item.field_labels), compiled for
PostgreSQL (jsonb functions) and SQLite (json1), so rules stay in the database on both.

Django's JSONField `contains` lookup is not supported on SQLite, and neither backend matches
list elements case-insensitively, which tag rules need (`Deprecated` is `deprecated`).
"""

from __future__ import annotations

from typing import Any

from django.db.models import BooleanField, Expression, Func, IntegerField, TextField
from django.db.models.sql.compiler import SQLCompiler


def _as_array_pg(sql: str) -> str:
    # A JSON null or object in the column must not abort the query: treat it as an empty list.
    return f"(CASE WHEN jsonb_typeof({sql}) = 'array' THEN {sql} ELSE '[]'::jsonb END)"


def _as_array_sqlite(sql: str) -> str:
    return f"(CASE WHEN json_type({sql}) = 'array' THEN {sql} ELSE '[]' END)"


class JSONListLength(Func):
    """Number of elements of a JSON list column; 0 for null or anything that is not a list."""

    output_field = IntegerField()

    def __init__(self, expression: Expression | str) -> None:
        super().__init__(expression)

    def as_postgresql(self, compiler: SQLCompiler, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"jsonb_array_length({_as_array_pg(sql)})", [*params, *params]

    def as_sqlite(self, compiler: SQLCompiler, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"COALESCE(CASE WHEN json_type({sql}) = 'array' THEN json_array_length({sql}) END, 0)", [*params, *params]


class JSONListHasAny(Func):
    """True when a JSON list of strings holds any of `values`, compared case-insensitively."""

    output_field = BooleanField()

    def __init__(self, expression: Expression | str, values: list[str] | tuple[str, ...]) -> None:
        self.values = [v.strip().lower() for v in values if v.strip()]
        super().__init__(expression)

    def _placeholders(self) -> str:
        return ", ".join(["%s"] * len(self.values))

    def as_postgresql(self, compiler: SQLCompiler, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        if not self.values:
            return "FALSE", []
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            # Only compiled column SQL and %s placeholders are interpolated; values are parameters.
            f"EXISTS (SELECT 1 FROM jsonb_array_elements_text({_as_array_pg(sql)}) AS element(value) "  # noqa: S608
            f"WHERE lower(element.value) IN ({self._placeholders()}))",
            [*params, *params, *self.values],
        )

    def as_sqlite(self, compiler: SQLCompiler, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        if not self.values:
            return "0", []
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"EXISTS (SELECT 1 FROM json_each({_as_array_sqlite(sql)}) AS element "  # noqa: S608
            f"WHERE lower(element.value) IN ({self._placeholders()}))",
            [*params, *params, *self.values],
        )


class JSONLabelsText(Func):
    """The labels of an item's `field_labels` list joined by spaces, for search text. Entries are
    {"label": ...} objects or plain strings; anything else counts as empty. Computed in SQL so
    the rules read one short string per row instead of decoding a JSON list in Python
    (~185k decodes per run at 100k items)."""

    output_field = TextField()

    def __init__(self, expression: Expression | str) -> None:
        super().__init__(expression)

    def as_postgresql(self, compiler: SQLCompiler, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            "COALESCE((SELECT string_agg(CASE jsonb_typeof(e.value) WHEN 'object' THEN COALESCE(e.value->>'label', '') "  # noqa: S608
            "WHEN 'string' THEN e.value #>> '{}' ELSE '' END, ' ' ORDER BY e.n) "
            f"FROM jsonb_array_elements({_as_array_pg(sql)}) WITH ORDINALITY AS e(value, n)), '')",
            [*params, *params],
        )

    def as_sqlite(self, compiler: SQLCompiler, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            "COALESCE((SELECT group_concat(CASE e.type WHEN 'object' THEN COALESCE(json_extract(e.value, '$.label'), '') "  # noqa: S608
            "WHEN 'text' THEN e.value ELSE '' END, ' ') "
            f"FROM json_each({_as_array_sqlite(sql)}) AS e), '')",
            [*params, *params],
        )
