"""Cleanup plans, the actions they propose, and the approvals those actions collect.

Single-row rules only; the flow lives in `plans.py`, `approval.py` and `execute.py`.
Nothing here ever holds a secret value: `params` carry titles, tags, URLs, permission names and
ids; `result` carries ids and counts.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class CleanupPlan(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"  # the proposer is still editing it
        PROPOSED = "proposed", "Awaiting approval"
        APPROVED = "approved", "Approved"  # has approved actions not yet run
        EXECUTING = "executing", "Executing"
        FINISHED = "finished", "Finished"
        ATTENTION = "attention", "Needs attention"  # a failure, or a manual step waiting
        REJECTED = "rejected", "Rejected"

    class Source(models.TextChoices):
        FINDING = "finding", "From findings"
        GENERATED = "generated", "Generated six-phase plan"

    account = models.ForeignKey("vaults.Account", on_delete=models.CASCADE, related_name="cleanup_plans")
    title = models.CharField(max_length=300)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.FINDING)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="proposed_cleanup_plans"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    # Organisation-wide open findings and health score when the plan was submitted, and after
    # the sync that followed its execution (null until then).
    findings_before = models.PositiveIntegerField(null=True, blank=True)
    health_before = models.PositiveSmallIntegerField(null=True, blank=True)
    findings_after = models.PositiveIntegerField(null=True, blank=True)
    health_after = models.PositiveSmallIntegerField(null=True, blank=True)
    follow_up_sync = models.ForeignKey(
        "vaults.SyncRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="cleanup_plans"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def health_change(self) -> int | None:
        if self.health_before is None or self.health_after is None:
            return None
        return self.health_after - self.health_before


class ProposedAction(models.Model):
    class Kind(models.TextChoices):
        ARCHIVE_ITEM = "archive_item", "Archive item"
        RENAME_ITEM = "rename_item", "Rename item"
        SET_TAGS = "set_tags", "Set tags"
        SET_URL = "set_url", "Set URL"
        MOVE_ITEM = "move_item", "Move item"
        REVOKE_USER = "revoke_user", "Revoke user access"
        REVOKE_GROUP = "revoke_group", "Revoke group access"
        CONSOLIDATE_DUPLICATES = "consolidate_duplicates", "Consolidate duplicates"
        ROTATE_SECRET = "rotate_secret", "Rotate secret"
        # Concerns a group and a person, not one vault: the only kind without a vault.
        REMOVE_GROUP_MEMBER = "remove_group_member", "Remove from group"

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Awaiting approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        EXECUTING = "executing", "Executing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        MANUAL = "manual", "Manual step: waiting for an administrator"
        MANUAL_DONE = "manual_done", "Marked done: waiting for the sync to verify"
        VERIFIED = "verified", "Manual step verified by sync"

    class Identity(models.TextChoices):
        SERVICE_ACCOUNT = "service_account", "Service account"
        PRIVILEGED = "privileged", "Privileged identity"
        MANUAL = "manual", "Manual step"

    class Phase(models.IntegerChoices):
        NONE = 0, "—"
        CONSOLIDATE = 1, "1. Consolidate duplicates"
        NAMES = 2, "2. Standardise names"
        PERMISSIONS = 3, "3. Right-size permissions"
        ORPHANED = 4, "4. Archive orphaned"
        ROTATE = 5, "5. Rotate weak"
        METADATA = 6, "6. Enrich metadata"

    TERMINAL = frozenset({Status.REJECTED, Status.DONE, Status.FAILED, Status.VERIFIED})

    plan = models.ForeignKey(CleanupPlan, on_delete=models.CASCADE, related_name="actions")
    position = models.PositiveIntegerField(default=0)
    phase = models.PositiveSmallIntegerField(choices=Phase.choices, default=Phase.NONE)
    kind = models.CharField(max_length=40, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROPOSED, db_index=True)
    identity = models.CharField(max_length=20, choices=Identity.choices)
    identity_reason = models.CharField(max_length=300, blank=True)
    finding = models.ForeignKey(
        "findings.Finding", null=True, blank=True, on_delete=models.SET_NULL, related_name="cleanup_actions"
    )
    # Null only for REMOVE_GROUP_MEMBER (a check constraint holds every other kind to a vault).
    vault = models.ForeignKey(
        "vaults.Vault", null=True, blank=True, on_delete=models.CASCADE, related_name="cleanup_actions"
    )
    item = models.ForeignKey(
        "vaults.Item", null=True, blank=True, on_delete=models.SET_NULL, related_name="cleanup_actions"
    )
    op_user = models.ForeignKey("vaults.OpUser", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    op_group = models.ForeignKey("vaults.OpGroup", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    destination_vault = models.ForeignKey(
        "vaults.Vault", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kind-specific inputs: {"title"}, {"tags"}, {"url"}, {"permissions"},
    # {"keep_item_id", "archive_item_ids"}, {"recipe"}. Metadata only.
    params = models.JSONField(default=dict, blank=True)
    # What execution learned: {"new_item_op_id"}, {"archived_item_ids"}, {"confirmed_by_sync"}.
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    follow_up = models.TextField(blank=True)
    follow_up_done_at = models.DateTimeField(null=True, blank=True)
    op_requests = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    manual_done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    manual_done_at = models.DateTimeField(null=True, blank=True)
    verification_note = models.TextField(blank=True)

    class Meta:
        ordering = ["plan", "position", "pk"]
        indexes = [models.Index(fields=["plan", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(vault__isnull=False) | models.Q(kind="remove_group_member"),
                name="cleanup_action_vault_unless_group_member",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def vault_name(self) -> str:
        """The vault's name, or the group's for a membership removal (which has no vault)."""
        if self.vault is not None:
            return self.vault.name
        return f"group {self.op_group}" if self.op_group is not None else "—"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL

    @property
    def status_label(self) -> str:
        """What a person reads: an action of a plan still being edited is a draft, not awaiting
        anyone's approval yet (its stored status is PROPOSED from the moment it is created)."""
        if self.status == self.Status.PROPOSED and self.plan.status == CleanupPlan.Status.DRAFT:
            return str(CleanupPlan.Status.DRAFT.label)
        return self.get_status_display()

    def param(self, name: str, default: Any = None) -> Any:
        return (self.params or {}).get(name, default)


class Approval(models.Model):
    """One person's decision on one action. Approvals expire (Policy.approval_ttl_hours); an
    expired approval no longer counts towards the approvals an action needs."""

    class Decision(models.TextChoices):
        APPROVE = "approve", "Approved"
        REJECT = "reject", "Rejected"

    action = models.ForeignKey(ProposedAction, on_delete=models.CASCADE, related_name="approvals")
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cleanup_approvals")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} by {self.approver_id} on action {self.action_id}"


class NotificationSent(models.Model):
    """One e-mail about a plan to one person. The unique key makes a retried task or a double
    submit send nothing more: the row is written in the same transaction as the mail is handed
    to the mail server, so a failed send leaves no row and a later attempt may send it."""

    key = models.CharField(max_length=200)  # event and what distinguishes it, e.g. "plan.executed:12:3,4"
    event = models.CharField(max_length=40)
    plan = models.ForeignKey(CleanupPlan, on_delete=models.CASCADE, related_name="notifications")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "recipient"], name="cleanup_notification_once")]

    def __str__(self) -> str:
        return f"{self.event} to {self.recipient_id}"
