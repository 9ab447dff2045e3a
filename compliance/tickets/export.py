"""Findings as ticket rows in CSV, for trackers fed by an import instead of an API.

One row per finding of the findings page's current filter: the summary and description rendered
from a destination's templates (or the defaults), and the facts an importer maps to fields.
Every text cell goes through `safe_cell` (CWE-1236): a title like `=HYPERLINK(...)` stays text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

from compliance.spreadsheet import safe_cell
from compliance.tickets import placeholders
from compliance.tickets.models import DEFAULT_DESCRIPTION_TEMPLATE, DEFAULT_SUMMARY_TEMPLATE, TicketDestination
from compliance.tickets.sending import links_for
from compliance.tickets.subjects import SUBJECTS, facts_for
from vaults.findings.models import Finding

EXPORT_MAX_ROWS = 50_000  # ~60 MB of CSV; a tracker import of more is not a remediation plan
CHUNK = 1000
COLUMNS = ["summary", "description", "severity", "kind", "status", "vault", "item title", "finding id",
           "finding url", "ticket url"]  # fmt: skip


def rows(findings: QuerySet[Finding], *, base_url: str, destination: TicketDestination | None = None) -> Iterator[list[Any]]:
    summary_template = destination.summary_template if destination else DEFAULT_SUMMARY_TEMPLATE
    description_template = destination.description_template if destination else DEFAULT_DESCRIPTION_TEMPLATE
    kind = SUBJECTS["finding"]
    yield COLUMNS
    chunk: list[Finding] = []
    for written, finding in enumerate(findings.iterator(chunk_size=CHUNK)):
        if written >= EXPORT_MAX_ROWS:
            yield from _chunk_rows(chunk, kind, base_url, summary_template, description_template)
            yield ["truncated", f"Stopped at {EXPORT_MAX_ROWS:,} rows: narrow the filter for the rest."]
            return
        chunk.append(finding)
        if len(chunk) == CHUNK:
            yield from _chunk_rows(chunk, kind, base_url, summary_template, description_template)
            chunk = []
    yield from _chunk_rows(chunk, kind, base_url, summary_template, description_template)


def _chunk_rows(chunk: list[Finding], kind: Any, base_url: str, summary_template: str, description_template: str) -> Iterator[list[Any]]:
    tickets = links_for("finding", [f.pk for f in chunk])  # one query per chunk, not per row
    for finding in chunk:
        values = facts_for(kind, finding, base_url=base_url)
        yield [
            placeholders.summary_text(summary_template, values),
            placeholders.description_text(description_template, values),
            values["severity"], values["kind"], values["status"], values["vault"], values["item_title"],
            finding.pk, values["link"], " ".join(link.url for link in tickets.get(finding.pk, []) if link.url),
        ]  # fmt: skip


def csv_lines(findings: QuerySet[Finding], *, base_url: str, destination: TicketDestination | None = None) -> Iterator[str]:
    """CSV text, a line at a time, for a StreamingHttpResponse."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows(findings, base_url=base_url, destination=destination):
        writer.writerow([safe_cell(v) for v in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
