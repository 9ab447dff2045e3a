"""Offboarding cases: one per leaver, tracking their rotation plan against an SLA.

Single-row rules only; opening, planning and completing live in cases.py, plan.py, actions.py.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

if TYPE_CHECKING:
    from vaults.cleanup.models import CleanupPlan


class OffboardingCase(models.Model):
    class Reason(models.TextChoices):
        BECAME_INACTIVE = "became_inactive", "Became inactive in 1Password"
        MARKED_LEAVING = "marked_leaving", "Marked as leaving"
        ACCESS_ENDED = "access_ended", "Time-limited access ended"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    account = models.ForeignKey("vaults.Account", on_delete=models.CASCADE, related_name="offboarding_cases")
    op_user = models.ForeignKey("vaults.OpUser", on_delete=models.CASCADE, related_name="offboarding_cases")
    # Who the person was when the case opened: readable after op renames or removes them.
    email = models.CharField(max_length=500, blank=True)
    name = models.CharField(max_length=500, blank=True)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    leave_date = models.DateField()
    due_date = models.DateField()
    lookback_days = models.PositiveSmallIntegerField()
    opened_at = models.DateTimeField()
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )  # null: the sync opened it
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True)
    plan = models.ForeignKey(
        "cleanup.CleanupPlan", null=True, blank=True, on_delete=models.SET_NULL, related_name="offboarding_cases"
    )
    plan_created_at = models.DateTimeField(null=True, blank=True)
    # Plans created after `plan` for what it could not cover (a lead's plan leaves out the vaults
    # they do not own; an admin or that vault's owner proposes the rest).
    further_plans = models.ManyToManyField("cleanup.CleanupPlan", blank=True, related_name="+")
    completed_at = models.DateTimeField(null=True, blank=True)
    closed_note = models.CharField(max_length=500, blank=True)
    # The person's access when the case opened (past_access.snapshot: vault op ids, permission and
    # group names): what they could copy stays in the plan after 1Password removes their grants.
    access_at_open = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["due_date", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["op_user"], condition=Q(status="open"), name="offboarding_one_open_case")
        ]

    def __str__(self) -> str:
        return f"Offboarding of {self.name or self.email or self.op_user_id}"

    @property
    def person_label(self) -> str:
        if self.name and self.email:
            return f"{self.name} <{self.email}>"
        return self.name or self.email

    def plans(self) -> list[CleanupPlan]:
        """Every cleanup plan of the case, the first one first."""
        # Sorted here, not by the query, so a prefetch (the API's case list) is used as it is.
        further = sorted(self.further_plans.all(), key=lambda p: p.pk) if self.pk else []
        return [p for p in [self.plan, *further] if p is not None]

    @property
    def opened_by_label(self) -> str:
        """Who opened the case, in the words the page, the timeline and the evidence use: a
        person, or which part of OpenClaw (no person decided a contract end or a suspension)."""
        if self.opened_by is not None:
            return self.opened_by.get_username()
        return "access expiry" if self.reason == self.Reason.ACCESS_ENDED else "sync"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    def is_overdue(self, today: datetime.date | None = None) -> bool:
        """Open past its due date (the due date itself is still in time)."""
        today = today or timezone.now().date()
        return self.is_open and today > self.due_date

    @property
    def overdue(self) -> bool:
        return self.is_overdue()

    @property
    def met_sla(self) -> bool | None:
        """Completed by the due date (True), after it (False); None while open or cancelled."""
        if self.status != self.Status.COMPLETED or self.completed_at is None:
            return None
        return self.completed_at.date() <= self.due_date

    @property
    def sla_label(self) -> str:
        if self.status == self.Status.CANCELLED:
            return "Cancelled"
        if self.status == self.Status.COMPLETED:
            return "Completed in time" if self.met_sla else "Completed late"
        days = (self.due_date - timezone.now().date()).days
        if days < 0:
            return f"Overdue by {-days} day{'s' if days != -1 else ''}"
        return f"Due in {days} day{'s' if days != 1 else ''}" if days else "Due today"

    @property
    def lookback_start(self) -> datetime.date:
        return self.leave_date - datetime.timedelta(days=self.lookback_days)
