"""Celery entry points for the audit log. Tasks call `compliance.audit_anchors` and return plain data."""

from __future__ import annotations

from celery import shared_task

from compliance.audit_anchors import write_anchor
from compliance.models import AuditAnchor


@shared_task(name="compliance.tasks.write_audit_anchor_task")
def write_audit_anchor_task() -> dict[str, int | str]:
    """Daily (settings.CELERY_BEAT_SCHEDULE). A refused anchor (the file no longer matches the
    chain) fails the task loudly and leaves the file as evidence."""
    anchor = write_anchor(source=AuditAnchor.Source.DAILY)
    return {"seq": anchor.seq, "entry_hash": anchor.entry_hash} if anchor else {"seq": 0}
