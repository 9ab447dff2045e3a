"""Access reviews: a frozen snapshot of who could reach which vault, and each reviewer's decision.

Single-row rules only; the flow (open, decide, remind, sign off) lives in `review.py`.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models


class AccessReview(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open for decisions"
        AWAITING_SECOND = "awaiting_second", "Signed off, awaiting second approver"
        SIGNED_OFF = "signed_off", "Signed off"

    account = models.ForeignKey("vaults.Account", on_delete=models.PROTECT, related_name="access_reviews")
    title = models.CharField(max_length=300)
    period = models.CharField(max_length=10, db_index=True)  # canonical label, e.g. 2026Q1
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()  # exclusive
    # Scope: every vault, or the vaults named and/or the classifications named (union).
    scope_all = models.BooleanField(default=True)
    scope_vault_ids = models.JSONField(default=list, blank=True)
    scope_classifications = models.JSONField(default=list, blank=True)
    scope_label = models.CharField(max_length=500, blank=True)
    require_second_approver = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField()
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)
    sign_off_note = models.TextField(blank=True)
    second_approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    second_approved_at = models.DateTimeField(null=True, blank=True)
    # Set when the first sign-off happens: from then on no entry changes.
    locked_at = models.DateTimeField(null=True, blank=True)
    last_reminded_at = models.DateTimeField(null=True, blank=True)
    # The cleanup plan holding the revocations this review decided (created at final sign-off).
    cleanup_plan = models.ForeignKey(
        "cleanup.CleanupPlan", null=True, blank=True, on_delete=models.SET_NULL, related_name="access_reviews"
    )

    class Meta:
        ordering = ["-opened_at", "-pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None or self.status != self.Status.OPEN

    @property
    def period_last_day(self) -> datetime.date:
        return (self.period_end - datetime.timedelta(days=1)).date()


class AccessReviewEntry(models.Model):
    """One user-vault access as it stood when the review was opened. The labels are copied so
    the record reads the same after the user, vault or grant is gone."""

    class Decision(models.TextChoices):
        UNDECIDED = "", "Undecided"
        KEEP = "keep", "Keep"
        REVOKE = "revoke", "Revoke"
        CHANGE = "change", "Change permissions"

    review = models.ForeignKey(AccessReview, on_delete=models.CASCADE, related_name="entries")
    op_user = models.ForeignKey("vaults.OpUser", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    vault = models.ForeignKey("vaults.Vault", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user_label = models.CharField(max_length=500)
    user_email = models.CharField(max_length=500, blank=True)
    user_state = models.CharField(max_length=40, blank=True)
    user_type = models.CharField(max_length=40, blank=True)
    vault_name = models.CharField(max_length=1000)
    vault_classification = models.CharField(max_length=20, blank=True)
    permissions = models.JSONField(default=list)  # union over every path, sorted
    direct_permissions = models.JSONField(default=list, blank=True)
    via_direct = models.BooleanField(default=False)
    via_groups = models.JSONField(default=list, blank=True)
    usage_count = models.PositiveIntegerField(default=0)
    items_used = models.PositiveIntegerField(default=0)
    last_used_at = models.DateTimeField(null=True, blank=True)
    flag_unused = models.BooleanField(default=False)
    flag_over_permissioned = models.BooleanField(default=False)
    flag_reasons = models.JSONField(default=list, blank=True)
    # OpenClaw's own sync identity (op whoami user_uuid): shown apart, never flagged, kept, and
    # never turned into a revocation (revoking it would stop the sync).
    is_sync_identity = models.BooleanField(default=False)
    # Null reviewer: routed to the compliance officers (the vault has no owner).
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="review_entries"
    )
    decision = models.CharField(max_length=10, choices=Decision.choices, blank=True, default="", db_index=True)
    justification = models.TextField(blank=True)
    keep_permissions = models.JSONField(default=list, blank=True)  # for CHANGE: the rights that stay
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    # After sign-off: the cleanup action carrying the revocation, or why a person must do it.
    cleanup_action = models.ForeignKey(
        "cleanup.ProposedAction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    remediation = models.TextField(blank=True)

    class Meta:
        ordering = ["vault_name", "user_label", "pk"]
        indexes = [models.Index(fields=["review", "reviewer", "decision"])]

    def __str__(self) -> str:
        return f"{self.user_label} on {self.vault_name}"

    @property
    def is_flagged(self) -> bool:
        return self.flag_unused or self.flag_over_permissioned

    @property
    def is_decided(self) -> bool:
        return bool(self.decision)

    @property
    def revoked_permissions(self) -> list[str]:
        """The rights this decision takes away (empty for keep or undecided)."""
        if self.decision == self.Decision.REVOKE:
            return list(self.permissions)
        if self.decision == self.Decision.CHANGE:
            kept = set(self.keep_permissions)
            return [p for p in self.permissions if p not in kept]
        return []
