"""Filtering and exporting the audit log (read side)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet
from openpyxl import Workbook

from compliance.models import AuditLogEntry
from compliance.spreadsheet import safe_cell

EXPORT_COLUMNS = ["seq", "created_at", "actor", "action", "target_type", "target_id", "target", "ip_address", "details", "prev_hash", "entry_hash"]


def filtered_entries(*, q: str = "", action: str = "", actor: str = "", since: Any = None, until: Any = None) -> QuerySet[AuditLogEntry]:
    entries = AuditLogEntry.objects.all()
    if q:
        entries = entries.filter(Q(target_label__icontains=q) | Q(action__icontains=q) | Q(actor_label__icontains=q))
    if action:
        entries = entries.filter(action__startswith=action)
    if actor:
        entries = entries.filter(actor_label__icontains=actor)
    if since:
        entries = entries.filter(created_at__date__gte=since)
    if until:
        entries = entries.filter(created_at__date__lte=until)
    return entries.order_by("-seq")


def _rows(entries: Iterable[AuditLogEntry]) -> Iterable[list[Any]]:
    import json

    for e in entries:
        yield [e.seq, e.created_at, e.actor_label, e.action, e.target_type, e.target_id, e.target_label, e.ip_address or "", json.dumps(e.details, sort_keys=True), e.prev_hash, e.entry_hash]


def export_csv(entries: QuerySet[AuditLogEntry]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for row in _rows(entries.order_by("seq").iterator()):
        writer.writerow([safe_cell(v.isoformat() if hasattr(v, "isoformat") else v) for v in row])
    return buffer.getvalue().encode("utf-8")


def export_xlsx(entries: QuerySet[AuditLogEntry]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Audit log")
    sheet.freeze_panes = "A2"
    sheet.append(EXPORT_COLUMNS)
    for row in _rows(entries.order_by("seq").iterator()):
        sheet.append([safe_cell(v.replace(tzinfo=None) if hasattr(v, "tzinfo") else v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
