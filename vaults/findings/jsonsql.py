"""Portable SQL expressions over JSON list columns (Item.tags, Item.urls, Item.field_labels), compiled for
PostgreSQL (jsonb functions) and SQLite (json1), so rules stay in the database on both.

Django's JSONField `contains` lookup is not supported on SQLite, and neither backend matches
list elements case-insensitively, which tag rules need (`Deprecated` is `deprecated`).
"""

from __future__ import annotations

from typing import Any

from django.db.models import BooleanField, Expression, Func, IntegerField, TextField
from django.db.models.expressions import Col
from django.db.models.sql.compiler import SQLCompiler

# The item column whose labels vaults migration 0015 stores as text, and that stored column.
ITEM_LABELS = ("vaults_item", "field_labels")
STORED_LABELS_TEXT = "field_labels_text"


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
    (~185k decodes per run at 100k items).

    On PostgreSQL an item's own column reads the text stored beside it (`field_labels_text`, a
    generated column: vaults migration 0015), which saves each rule query over every item ~0.85 s
    at 100k items; any other JSON list goes through the same SQL function that column is made of."""

    output_field = TextField()

    def __init__(self, expression: Expression | str) -> None:
        super().__init__(expression)

    def as_postgresql(self, compiler: SQLCompiler, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        source = self.source_expressions[0]
        if isinstance(source, Col) and (source.target.model._meta.db_table, source.target.column) == ITEM_LABELS:
            # The column's table as Django names it in FROM: a table name quoted, an alias ("T3",
            # "U0" in a subquery) bare, as Col itself compiles it.
            table = f"{compiler.quote_name_unless_alias(source.alias)}." if source.alias else ""
            return f"{table}{connection.ops.quote_name(STORED_LABELS_TEXT)}", []
        sql, params = compiler.compile(source)
        return f"openclaw_labels_text({sql})", list(params)

    def as_sqlite(self, compiler: SQLCompiler, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            "COALESCE((SELECT group_concat(CASE e.type WHEN 'object' THEN COALESCE(json_extract(e.value, '$.label'), '') "  # noqa: S608
            "WHEN 'text' THEN e.value ELSE '' END, ' ') "
            f"FROM json_each({_as_array_sqlite(sql)}) AS e), '')",
            [*params, *params],
        )
