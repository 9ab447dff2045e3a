"""Generating report artifacts: the one domain function behind the view, the Celery tasks, the
schedules and `manage.py generate_report`.

1. `request_report` stores a QUEUED ReportArtifact (kind, period, format, generator, parameters),
   audit-logs the request and, once committed, enqueues the task for its format by name
   (openclaw_web/dispatch.py: this module never imports the task wrappers that call it). PDFs and
   evidence bundles (which hold a PDF) go to the "pdf" queue.
2. `render_artifact` claims the row (QUEUED -> RUNNING by a conditional update, so a redelivered
   task is a no-op), builds the report data once, renders every file of its format from that one
   build (compliance/reports/bundle.py), writes the file under MEDIA_ROOT (temporary name, then an
   atomic rename), stores size and SHA-256, marks it DONE and audit-logs it; any error marks it
   FAILED with a readable reason. Delivery of a scheduled artifact is the caller's next step
   (tasks.py runs `schedules.deliver_scheduled`), so this module does not depend on schedules.
3. `generate_now` does 1 and 2 in-process (the management command; its artifacts have no schedule).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from compliance import audit
from compliance.reports.builders import build_report
from compliance.reports.models import ReportArtifact, ReportFormat, ReportKind, ReportSchedule
from compliance.reviews.periods import Period, parse_period
from openclaw_web.dispatch import after_commit
from openclaw_web.person_labels import name_with_role
from vaults.models import Account

logger = logging.getLogger(__name__)
SCHEDULER = "scheduler"
# A bundle renders a PDF, so it needs the pdf queue's worker (memory-recycled, time-limited).
TASK_FOR_FORMAT = {
    ReportFormat.PDF: "compliance.reports.tasks.render_pdf_task",
    ReportFormat.ZIP: "compliance.reports.tasks.render_pdf_task",
    ReportFormat.XLSX: "compliance.reports.tasks.render_xlsx_task",
}


class ReportError(Exception):
    """A report request we cannot accept; the message is for the person."""


def artifact_path(artifact: ReportArtifact) -> Path:
    return Path(settings.MEDIA_ROOT) / artifact.file_path


def _accounts(parameters: dict[str, Any]) -> list[Account] | None:
    name = parameters.get("account")
    if not name:
        return None
    accounts = list(Account.objects.filter(name=name))
    if not accounts:
        raise ReportError(f"No account named {name!r}.")
    return accounts


def create_artifact(*, kind: str, period: Period, fmt: str, generator: User | None,
                    parameters: dict[str, Any] | None = None, schedule: ReportSchedule | None = None,
                    generator_label: str = "") -> ReportArtifact:
    if kind not in ReportKind.values:
        raise ReportError(f"Unknown report kind {kind!r}; choose one of {', '.join(ReportKind.values)}.")
    if fmt not in ReportFormat.values:
        raise ReportError(f"Unknown format {fmt!r}; choose one of {', '.join(ReportFormat.values)}.")
    params = {"period_start": period.start.isoformat(), "period_end": period.end.isoformat(), **(parameters or {})}
    _accounts(params)  # fail early on an unknown account
    # The name and role at the time of the request, as the cover prints it ("Dana Ruiz (Compliance officer)").
    label = generator_label or (name_with_role(generator) if generator is not None else SCHEDULER)
    artifact = ReportArtifact.objects.create(kind=kind, period=period.label, format=fmt, generator=generator,
                                             generator_label=label[:300], parameters=params, schedule=schedule)
    audit.record("report.requested", actor=generator, actor_label="" if generator else label, target=artifact,
                 details={"kind": kind, "period": period.label, "format": fmt, "parameters": params})
    return artifact


def request_report(*, kind: str, period: Period, fmt: str, generator: User | None,
                   parameters: dict[str, Any] | None = None, schedule: ReportSchedule | None = None) -> ReportArtifact:
    artifact = create_artifact(kind=kind, period=period, fmt=fmt, generator=generator, parameters=parameters,
                               schedule=schedule)
    after_commit(TASK_FOR_FORMAT[ReportFormat(fmt)], artifact.pk)
    return artifact


def _write(artifact: ReportArtifact, render: Any) -> tuple[str, str, int]:
    """Render into a temporary file, hash it, rename it into place. Returns (path, sha256, size)."""
    relative = Path("reports") / f"{artifact.created_at:%Y}" / artifact.filename
    final = Path(settings.MEDIA_ROOT) / relative
    final.parent.mkdir(parents=True, exist_ok=True)
    temporary = final.with_name(f".{final.name}.part")
    with temporary.open("wb") as handle:
        render(handle)
    digest = hashlib.sha256()
    with temporary.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    os.replace(temporary, final)
    return str(relative), digest.hexdigest(), final.stat().st_size


@contextmanager
def one_snapshot() -> Iterator[None]:
    """Build and render read one snapshot of the database. Tables are read lazily while the workbook
    and CSVs are written, after the totals and the PDF's first rows: usage events or audit entries
    committed in between must not make the files of one generation disagree. PostgreSQL: one
    REPEATABLE READ transaction; SQLite: one transaction. Inside a caller's transaction, that one."""
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def render_artifact(*, artifact_id: int) -> ReportArtifact:
    """Step 2 of the module docstring."""
    # Deferred: WeasyPrint and openpyxl load only in the process that renders, not in every page view.
    from compliance.reports.bundle import write_artifact

    now = timezone.now()
    if not ReportArtifact.objects.filter(pk=artifact_id, status=ReportArtifact.Status.QUEUED).update(
            status=ReportArtifact.Status.RUNNING, started_at=now):
        return ReportArtifact.objects.get(pk=artifact_id)
    artifact = ReportArtifact.objects.select_related("schedule").get(pk=artifact_id)
    try:
        with one_snapshot():
            document = build_report(kind=artifact.kind, period=parse_period(artifact.period),
                                    accounts=_accounts(artifact.parameters), generator=artifact.generator_label, now=now)
            basename = Path(artifact.filename).stem
            path, sha256, size = _write(artifact, lambda handle: write_artifact(
                artifact.format, document, handle, parameters=artifact.parameters, basename=basename))
    except BaseException as error:
        mark_failed(artifact_id, error)
        raise
    artifact.status, artifact.file_path, artifact.sha256, artifact.size = ReportArtifact.Status.DONE, path, sha256, size
    artifact.chain_head, artifact.chain_seq = document.chain_head, document.chain_seq
    artifact.finished_at = timezone.now()
    artifact.save(update_fields=["status", "file_path", "sha256", "size", "chain_head", "chain_seq", "finished_at"])
    audit.record("report.generated", actor=artifact.generator, actor_label="" if artifact.generator else artifact.generator_label,
                 target=artifact, details={"kind": artifact.kind, "period": artifact.period, "format": artifact.format,
                                           "sha256": sha256, "size": size, "chain_head": document.chain_head,
                                           "chain_seq": document.chain_seq})
    return artifact


def mark_failed(artifact_id: int, error: BaseException) -> None:
    name = type(error).__name__
    reason = {"SoftTimeLimitExceeded": "Rendering took longer than the time limit of the PDF queue.",
              "TimeLimitExceeded": "Rendering was stopped at the hard time limit.",
              "MemoryError": "Rendering ran out of memory."}.get(name, f"{name}: {error}"[:2000])
    logger.warning("report artifact %s failed: %s", artifact_id, reason)
    ReportArtifact.objects.filter(pk=artifact_id, status__in=[ReportArtifact.Status.QUEUED, ReportArtifact.Status.RUNNING]).update(
        status=ReportArtifact.Status.FAILED, error=reason, finished_at=timezone.now())


def generate_now(*, kind: str, period: Period, fmt: str, out: Path | None = None, generator_label: str = "manage.py",
                 parameters: dict[str, Any] | None = None) -> ReportArtifact:
    """The management command: store the artifact like the task does, then copy it to `out`."""
    artifact = create_artifact(kind=kind, period=period, fmt=fmt, generator=None, parameters=parameters,
                               generator_label=generator_label)
    artifact = render_artifact(artifact_id=artifact.pk)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(artifact_path(artifact), out)
    return artifact


def record_download(*, artifact: ReportArtifact, request: Any) -> None:
    audit.record("report.downloaded", request=request, target=artifact,
                 details={"sha256": artifact.sha256, "format": artifact.format, "period": artifact.period})
