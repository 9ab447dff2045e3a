"""Scheduled generation and delivery by e-mail.

`run_due_schedules` (beat, daily) requests, for every active schedule whose previous complete
period (month or quarter) has not been generated yet, one artifact; when that artifact is done,
`deliver_scheduled` (the render task's step after rendering) e-mails it once to the schedule's
recipients: attached, or as a link. The mail carries the report's name, period, size and SHA-256
only — never a secret (reports hold none either).

Imports run one way: this module calls `generate`; `generate` knows nothing of schedules.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import timezone

from compliance import audit
from compliance.reports.generate import artifact_path, request_report
from compliance.reports.models import ReportArtifact, ReportFormat, ReportSchedule
from compliance.reviews.periods import Period, period_containing
from openclaw_web.site_url import absolute_url

# Attachments above this go as a link: most mail servers refuse messages over 20-25 MB.
MAX_ATTACHMENT_BYTES = 15 * 1024 * 1024
CONTENT_TYPES: dict[str, str] = {
    ReportFormat.PDF: "application/pdf",
    ReportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ReportFormat.ZIP: "application/zip",
}


def due_period(schedule: ReportSchedule, now: datetime.datetime) -> Period:
    monthly = schedule.cadence == ReportSchedule.Cadence.MONTHLY
    return period_containing(now, monthly=monthly).previous()


def run_due_schedules(*, now: datetime.datetime | None = None) -> list[ReportArtifact]:
    now = now or timezone.now()
    requested = []
    for schedule in ReportSchedule.objects.filter(active=True):
        period = due_period(schedule, now)
        # Conditional update: two beat runs (or two beats) never generate the same period twice.
        if not ReportSchedule.objects.filter(pk=schedule.pk).exclude(last_period=period.label).update(
                last_period=period.label, last_run_at=now):
            continue
        requested.append(request_report(kind=schedule.kind, period=period, fmt=schedule.format, generator=None,
                                        parameters={"schedule": schedule.pk}, schedule=schedule))
    return requested


def download_url(artifact: ReportArtifact) -> str:
    return absolute_url(reverse("reports:download", args=[artifact.pk]))


def deliver_scheduled(artifact: ReportArtifact) -> int:
    """E-mail a finished scheduled artifact once. The conditional update claims the delivery, so a
    redelivered render task (acks_late) sends nothing; a failed send gives the claim back."""
    if artifact.schedule is None or artifact.status != ReportArtifact.Status.DONE:
        return 0
    if not ReportArtifact.objects.filter(pk=artifact.pk, delivered_at__isnull=True).update(delivered_at=timezone.now()):
        return 0
    try:
        return deliver(artifact=artifact, schedule=artifact.schedule)
    except BaseException:
        ReportArtifact.objects.filter(pk=artifact.pk).update(delivered_at=None)
        raise


def deliver(*, artifact: ReportArtifact, schedule: ReportSchedule) -> int:
    recipients = [r for r in schedule.recipients if r]
    if not recipients or artifact.status != ReportArtifact.Status.DONE:
        return 0
    attach = schedule.attach and artifact.size <= MAX_ATTACHMENT_BYTES
    body = "\n".join([
        f"{artifact.get_kind_display()} for {artifact.period} ({artifact.get_format_display()}).",
        "",
        f"SHA-256: {artifact.sha256}",
        f"Size: {artifact.size:,} bytes",
        f"Generated: {artifact.finished_at:%Y-%m-%d %H:%M} UTC" if artifact.finished_at else "",
        "",
        "The report is attached." if attach else f"Download (sign-in required): {download_url(artifact)}",
        "Compare the SHA-256 with the one shown in OpenClaw to check the file is unchanged.",
        "This message and the report contain metadata only: no secret values.",
    ])
    message = EmailMessage(subject=f"[OpenClaw] {artifact.get_kind_display()} {artifact.period}", body=body,
                           from_email=settings.DEFAULT_FROM_EMAIL, to=recipients)
    if attach:
        content_type = CONTENT_TYPES.get(artifact.format, "application/octet-stream")
        message.attach(artifact.filename, artifact_path(artifact).read_bytes(), content_type)
    sent = message.send(fail_silently=False)
    audit.record("report.delivered", actor_label="scheduler", target=artifact,
                 details={"schedule": schedule.pk, "recipients": recipients, "attached": attach, "sha256": artifact.sha256})
    return sent
