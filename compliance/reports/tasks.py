"""Celery entry points for reports. Tasks take IDs and call `compliance.reports.generate`, then
deliver a scheduled artifact (`compliance.reports.schedules`): rendering and delivery are two steps
of the task, so the domain modules need not import each other both ways.

Evidence bundles (ZIP) are rendered by `render_pdf_task` as well: they hold a PDF.

`render_pdf_task` is routed to the "pdf" queue (settings.CELERY_TASK_ROUTES). Its worker runs
with `--concurrency 1 --max-memory-per-child 1000000` (KiB, ~1 GB; docker-compose.yml): WeasyPrint
does not return memory to the OS, so the child is replaced after a big render. The time limits
below stop a runaway render; the ReportArtifact row then says why it failed.
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from compliance.reports import generate, schedules

# Measured: the SOC 2 PDF of 1,000 users x 100 vaults renders in well under a minute (bench/), and
# so do its PDF artifact with the workbook embedded (15 s) and its evidence bundle (14 s; 35 s with
# the 2 cores at load 10) (bench/bench_bundle.py); five times that is a hung render, not a big one.
PDF_SOFT_TIME_LIMIT = 240
PDF_TIME_LIMIT = 300
XLSX_SOFT_TIME_LIMIT = 540
XLSX_TIME_LIMIT = 600


class ReportArtifactTask(Task):
    """Marks the ReportArtifact failed when the task itself dies (the row is the truth)."""

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        artifact_id = kwargs.get("artifact_id") or (args[0] if args else None)
        if artifact_id is not None:
            generate.mark_failed(int(artifact_id), exc)


def _render_and_deliver(artifact_id: int) -> str:
    artifact = generate.render_artifact(artifact_id=artifact_id)
    schedules.deliver_scheduled(artifact)
    return str(artifact.status)


@shared_task(base=ReportArtifactTask, name="compliance.reports.tasks.render_pdf_task",
             soft_time_limit=PDF_SOFT_TIME_LIMIT, time_limit=PDF_TIME_LIMIT)
def render_pdf_task(artifact_id: int) -> str:
    return _render_and_deliver(artifact_id)


@shared_task(base=ReportArtifactTask, name="compliance.reports.tasks.render_xlsx_task",
             soft_time_limit=XLSX_SOFT_TIME_LIMIT, time_limit=XLSX_TIME_LIMIT)
def render_xlsx_task(artifact_id: int) -> str:
    return _render_and_deliver(artifact_id)


@shared_task(name="compliance.reports.tasks.run_report_schedules_task")
def run_report_schedules_task() -> int:
    """Beat, daily: generate (and then e-mail) every schedule's previous period once."""
    return len(schedules.run_due_schedules())
