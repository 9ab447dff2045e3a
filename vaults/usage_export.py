"""Usage audit exports: CSV (streamed) and Excel, every text cell through `safe_cell`.

Rows are the raw events of the filter, newest first, then the summarised days the range reaches
(days past retention with no raw event left: one row per day, item, person and action, with its
count; days that still have their raw events are listed once, as events), then nothing more: an export stops at
`EXPORT_MAX_ROWS` and says so in its last row, so a request never builds an unbounded file. The
coverage statements come first, so a file read on its own still says what it rests on.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from openpyxl import Workbook

from compliance.spreadsheet import safe_cell
from vaults.usage_audit import UsageFilter, coverage, events_after, summarised_days, with_items

EXPORT_MAX_ROWS = 200_000  # ~40 MB of CSV: a year of a large team's production items, filtered
CHUNK = 2000
COLUMNS = ["when (UTC)", "kind", "count", "person", "email", "person id", "item", "item id", "vault", "vault id",
           "action", "client app", "IP address", "country"]  # fmt: skip


def rows(f: UsageFilter) -> Iterator[list[Any]]:
    """Header lines, then one list per event or summarised day, typed (datetimes stay datetimes)."""
    for line in coverage(f).statements:
        yield ["coverage", line]
    yield COLUMNS
    written = 0
    last_id: int | None = None
    while written < EXPORT_MAX_ROWS:
        # Keyset chunks on (timestamp, id): one index range per chunk, however deep the export.
        chunk = list(events_after(f, last_id)[: min(CHUNK, EXPORT_MAX_ROWS - written)])
        if not chunk:
            break
        for row in with_items(chunk):
            e = row.event
            yield [e.timestamp.astimezone(UTC).replace(tzinfo=None), "event", 1, e.user_name, e.user_email, e.user_op_id,
                   row.item.title if row.item else "", e.item_op_id, row.vault_name, e.vault_op_id, e.action,
                   e.client_app, e.client_ip, e.country]  # fmt: skip
        written += len(chunk)
        last_id = chunk[-1].pk
    for day in summarised_days(f).order_by("-day", "item_op_id", "user_op_id", "action").iterator(chunk_size=CHUNK):
        if written >= EXPORT_MAX_ROWS:
            break
        yield [datetime(day.day.year, day.day.month, day.day.day), "daily count", day.count, "", "", day.user_op_id,
               "", day.item_op_id, "", day.vault_op_id, day.action, "", "", ""]  # fmt: skip
        written += 1
    if written >= EXPORT_MAX_ROWS:
        yield ["truncated", f"Stopped at {EXPORT_MAX_ROWS:,} rows: narrow the filter for the rest."]


def _csv_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return safe_cell(value)


def csv_lines(f: UsageFilter) -> Iterator[str]:
    """CSV text, a line at a time, for a StreamingHttpResponse."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows(f):
        writer.writerow([_csv_value(v) for v in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def xlsx_bytes(f: UsageFilter) -> bytes:
    """A write-only workbook (rows go to a temporary file, not memory), one sheet."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Usage")
    for row in rows(f):
        sheet.append([safe_cell(v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
