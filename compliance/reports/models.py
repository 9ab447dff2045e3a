"""Stored report artifacts (the job row is the truth about a generation) and delivery schedules."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

# Past the longest render's hard limit (tasks.XLSX_TIME_LIMIT, 10 minutes) with room for a queue.
ABANDONED_AFTER = timedelta(minutes=30)


class ReportKind(models.TextChoices):
    SOC2 = "soc2", "SOC 2 access review"
    ISO27001 = "iso27001", "ISO/IEC 27001:2022 Annex A"
    HYGIENE = "hygiene", "Vault hygiene report"


class ReportFormat(models.TextChoices):
    PDF = "pdf", "PDF"
    XLSX = "xlsx", "Excel workbook"
    ZIP = "zip", "Evidence bundle (.zip)"  # PDF + workbook + one CSV per table + manifest.json, from one data build


class ReportArtifact(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=20, choices=ReportKind.choices)
    period = models.CharField(max_length=10)
    format = models.CharField(max_length=8, choices=ReportFormat.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    file_path = models.CharField(max_length=500, blank=True)  # relative to MEDIA_ROOT
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    generator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    generator_label = models.CharField(max_length=300)  # username at the time, or "scheduler"
    parameters = models.JSONField(default=dict, blank=True)
    chain_head = models.CharField(max_length=64, blank=True)  # audit chain head printed on the cover
    # The audit entry number of chain_head (0: the chain was empty); verify_audit_log checks that
    # entry is still there with that hash. Null on artifacts made before it was recorded.
    chain_seq = models.PositiveBigIntegerField(null=True, blank=True)
    schedule = models.ForeignKey("ReportSchedule", null=True, blank=True, on_delete=models.SET_NULL, related_name="artifacts")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Set when a scheduled artifact's e-mail is claimed, so a redelivered task does not mail it twice.
    delivered_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period} ({self.format})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def is_abandoned(self) -> bool:
        """Queued or running past every render's hard time limit (tasks.py): whoever had it is gone
        (a stopped demo server, a killed worker), so its row stops saying "queued" and polling."""
        if self.is_finished:
            return False
        since = self.started_at or self.created_at
        return since is not None and since < timezone.now() - ABANDONED_AFTER

    @property
    def filename(self) -> str:
        return f"openclaw-{self.kind}-{self.period}-{self.pk}.{self.format}"


class ReportSchedule(models.Model):
    class Cadence(models.TextChoices):
        MONTHLY = "monthly", "Monthly (previous month)"
        QUARTERLY = "quarterly", "Quarterly (previous quarter)"

    kind = models.CharField(max_length=20, choices=ReportKind.choices)
    format = models.CharField(max_length=8, choices=ReportFormat.choices)
    cadence = models.CharField(max_length=10, choices=Cadence.choices)
    recipients = models.JSONField(default=list)  # e-mail addresses
    attach = models.BooleanField(default=True, help_text="Attach the file; otherwise send a download link.")
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_period = models.CharField(max_length=10, blank=True)  # the last period generated
    last_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "cadence", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.get_cadence_display().lower()} as {self.format}"
