"""Formatting one report cell for the HTML preview and the PDF (the workbook keeps raw values)."""

from __future__ import annotations

import datetime
from typing import Any

from django import template

from compliance.reports.document import Column

register = template.Library()

# Text cells are cut at Column.max_chars (default 160) in HTML and PDF: a 10 kB item title must not
# become a page of its own.


@register.filter
def cell(value: Any, column: Column) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"
    text = " ".join(str(value).split())
    limit = min(column.max_chars, 2000)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@register.filter
def utc(value: datetime.datetime | None) -> str:
    """'31 Mar 2026 14:02 UTC' whatever TIME_ZONE the server runs in; '—' for no time."""
    if value is None:
        return "—"
    return value.astimezone(datetime.UTC).strftime("%-d %b %Y %H:%M UTC")


@register.filter
def numeric(column: Column) -> bool:
    return column.kind in ("int", "percent")


@register.filter
def pairs(row: tuple[Any, ...], columns: list[Column]) -> list[tuple[Any, Column]]:
    return [(value, column) for value, column in zip(row, columns, strict=False) if column.in_pdf]
