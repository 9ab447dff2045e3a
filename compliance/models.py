from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models


class AppendOnlyQuerySet(models.QuerySet["AuditLogEntry"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise PermissionError("The audit log is append-only.")

    def delete(self) -> NoReturn:
        raise PermissionError("The audit log is append-only.")


class HashScheme(models.TextChoices):
    # Rows written before the audit key existed keep their plain hash: history is never rewritten.
    SHA256 = "sha256", "SHA-256 (before the audit key)"
    HMAC_SHA256 = "hmac-sha256", "HMAC-SHA256 under AUDIT_KEY"


class AuditLogEntry(models.Model):
    """One thing a person (or the system on their behalf) did. Rows are only ever appended,
    each carrying the previous row's hash, so any edit, deletion or reordering breaks the chain.
    On PostgreSQL a trigger also rejects UPDATE and DELETE."""

    seq = models.PositiveBigIntegerField(unique=True)
    created_at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False)
    actor_label = models.CharField(max_length=300)  # username at the time, kept if the user goes
    action = models.CharField(max_length=80, db_index=True)
    target_type = models.CharField(max_length=80, blank=True)
    target_id = models.CharField(max_length=200, blank=True)
    target_label = models.CharField(max_length=500, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)
    hash_scheme = models.CharField(max_length=16, choices=HashScheme.choices, default=HashScheme.HMAC_SHA256)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        verbose_name_plural = "audit log entries"
        # The log's "Target" menu lists the target types present, walked value by value through
        # this index (compliance/audit_queries.py `distinct_values`); `action` has its own.
        indexes = [models.Index(fields=["target_type"], name="audit_target_type_idx")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.actor_label} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError("The audit log is append-only.")


class AuditAnchorQuerySet(models.QuerySet["AuditAnchor"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise PermissionError("Audit anchors are append-only.")

    def delete(self) -> NoReturn:
        raise PermissionError("Audit anchors are append-only.")


class AuditAnchor(models.Model):
    """The audit chain's newest (seq, hash) as seen at one moment (compliance/audit_anchors.py).

    An entry that existed when an anchor was taken must still be there with the same hash, so
    removing the newest entries (which leaves a chain that is intact in itself) is found."""

    class Source(models.TextChoices):
        DAILY = "daily", "Daily anchor (beat)"
        VERIFY = "verify", "verify_audit_log --write-anchor"

    seq = models.PositiveBigIntegerField()
    entry_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=Source.choices)

    objects = AuditAnchorQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"anchor #{self.pk} at entry #{self.seq} ({self.source})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("Audit anchors are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError("Audit anchors are append-only.")
