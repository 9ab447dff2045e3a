"""End dates on a person's access (contractors, guests, time-limited grants), and the mails sent
about them. Single-row rules only; the flow lives in `schedule.py` (set, clear, guest defaults)
and `daily.py` (reminders, removals, the leaver flow).

End dates are OpenClaw's own data, never 1Password's: 1Password has no expiry on a grant, so
the sync never touches these rows.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q


class AccessEndDate(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"  # the end date has not come yet
        ENDED = "ended", "Ended: removal proposed"  # past the date; removal waits for approval or the sync
        REMOVED = "removed", "Removed"  # a sync after the date showed no access left in scope
        CLEARED = "cleared", "Cleared"  # a person took the end date away (or a guest became a member)

    OPEN = (Status.SCHEDULED, Status.ENDED)

    account = models.ForeignKey("vaults.Account", on_delete=models.CASCADE, related_name="access_end_dates")
    op_user = models.ForeignKey("vaults.OpUser", on_delete=models.CASCADE, related_name="access_end_dates")
    # True: everything the person can reach ends; False: only `vaults`.
    covers_all = models.BooleanField(default=True)
    vaults = models.ManyToManyField("vaults.Vault", blank=True, related_name="access_end_dates")
    ends_on = models.DateField()
    # The lead who set it: reminded a week before, and the proposer of the removal (so the
    # approver is someone else). Empty for a guest's default end date.
    sponsor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="sponsored_end_dates"
    )
    reason = models.CharField(max_length=500, blank=True)
    # A guest's default (GUEST_ACCESS_DAYS after OpenClaw first saw them), not a person's decision.
    is_default = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    removal_plan = models.ForeignKey(
        "cleanup.CleanupPlan", null=True, blank=True, on_delete=models.SET_NULL, related_name="access_end_dates"
    )
    # The part of the removal outside the sponsor's vault scope (vaults/access_expiry/sponsorship.py):
    # proposed by OpenClaw's expiry identity, never in the sponsor's name.
    outside_scope_plan = models.ForeignKey(
        "cleanup.CleanupPlan", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    removal_proposed_at = models.DateTimeField(null=True, blank=True)
    # Why no removal could be proposed (nothing left to revoke through op, no proposer): shown on the page.
    removal_note = models.CharField(max_length=500, blank=True)
    leaver_case_opened_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["ends_on", "pk"]
        constraints = [
            # One open whole-access end date per person: a second one would be ambiguous.
            models.UniqueConstraint(
                fields=["op_user"],
                condition=Q(covers_all=True, status__in=["scheduled", "ended"]),
                name="access_end_one_open_whole",
            ),
        ]
        indexes = [models.Index(fields=["account", "status", "ends_on"], name="access_end_due")]

    def __str__(self) -> str:
        scope = "all access" if self.covers_all else "some vaults"
        return f"{self.op_user} ({scope}) ends {self.ends_on.isoformat()}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    def days_left(self, today: datetime.date) -> int:
        return (self.ends_on - today).days

    def has_ended(self, today: datetime.date) -> bool:
        """`ends_on` is the first day without access ("access ends on"), not the last day with
        it: on that day, in the configured TIME_ZONE, the finding opens and the daily job
        proposes the removal, which still waits for two people before anything changes. A
        contract whose last working day is the 30th is entered as ending on the 1st (the form
        says so). One rule for the finding, the daily job and the report: `ended_by`."""
        return self.ends_on <= today


def ended_by(today: datetime.date) -> Q:
    """`AccessEndDate.has_ended` as a filter."""
    return Q(ends_on__lte=today)


class ExpiryMail(models.Model):
    """One mail about end dates to one person. The unique key makes a second run of the daily or
    weekly job send nothing more; the row is written in the same transaction as the mail is
    handed to the mail server, so a failed send leaves no row and the next run tries again."""

    key = models.CharField(max_length=200)  # "reminder:12", "weekly:2026-W48"
    event = models.CharField(max_length=40)
    end_date = models.ForeignKey(AccessEndDate, null=True, blank=True, on_delete=models.CASCADE, related_name="mails")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "recipient"], name="access_expiry_mail_once")]

    def __str__(self) -> str:
        return f"{self.event} to {self.recipient_id}"
