"""Celery entry points for reports. Tasks take IDs and call `compliance.reports.generate`.

`render_pdf_task` is routed to the "pdf" queue (settings.CELERY_TASK_ROUTES). Its worker runs
with `--concurrency 1 --max-memory-per-child 1000000` (KiB, ~1 GB; docker-compose.yml): WeasyPrint
does not return memory to the OS, so the child is replaced after a big render. The time limits
below stop a runaway render; the ReportArtifact row then says why it failed.
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from compliance.reports import generate, schedules

# Measured: the SOC 2 PDF of 1,000 users x 100 vaults renders in well under a minute (bench/);
# five times that is a hung render, not a big one.
PDF_SOFT_TIME_LIMIT = 240
PDF_TIME_LIMIT = 300
XLSX_SOFT_TIME_LIMIT = 540
XLSX_TIME_LIMIT = 600


class ReportArtifactTask(Task):  # type: ignore[misc]
    """Marks the ReportArtifact failed when the task itself dies (the row is the truth)."""

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        artifact_id = kwargs.get("artifact_id") or (args[0] if args else None)
        if artifact_id is not None:
            generate.mark_failed(int(artifact_id), exc)


@shared_task(base=ReportArtifactTask, name="compliance.reports.tasks.render_pdf_task",
             soft_time_limit=PDF_SOFT_TIME_LIMIT, time_limit=PDF_TIME_LIMIT)
def render_pdf_task(artifact_id: int) -> str:
    return str(generate.render_artifact(artifact_id=artifact_id).status)


@shared_task(base=ReportArtifactTask, name="compliance.reports.tasks.render_xlsx_task",
             soft_time_limit=XLSX_SOFT_TIME_LIMIT, time_limit=XLSX_TIME_LIMIT)
def render_xlsx_task(artifact_id: int) -> str:
    return str(generate.render_artifact(artifact_id=artifact_id).status)


@shared_task(name="compliance.reports.tasks.run_report_schedules_task")
def run_report_schedules_task() -> int:
    """Beat, daily: generate (and then e-mail) every schedule's previous period once."""
    return len(schedules.run_due_schedules())
