from __future__ import annotations

from django.conf import settings
from django.db import models


class SyncRun(models.Model):
    """The truth about one sync of one account: a task only ever moves this row forward."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        WAITING = "waiting", "Waiting for rate-limit window"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Scope(models.TextChoices):
        ITEMS = "items", "Items"
        FULL = "full", "Items and permissions"

    account = models.ForeignKey("vaults.Account", on_delete=models.CASCADE, related_name="sync_runs")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True)
    scope = models.CharField(max_length=20, choices=Scope.choices, default=Scope.FULL)
    phase = models.CharField(max_length=60, blank=True)
    triggered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    waiting_until = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    op_calls = models.PositiveIntegerField(default=0)
    op_requests = models.PositiveIntegerField(default=0)  # rate-limit budget actually spent
    counts = models.JSONField(default=dict, blank=True)  # per-phase counters
    items_without_values = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        get_latest_by = "created_at"

    def __str__(self) -> str:
        return f"Sync {self.pk} of {self.account_id}: {self.status}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)
