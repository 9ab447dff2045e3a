"""Break-glass events: one person's use of one item in an emergency vault (vaults/breakglass/)."""

from __future__ import annotations

from django.db import models


class EmergencyUse(models.Model):
    """One emergency event: the raw item usages of one person on one item in a vault classified
    emergency, grouped while each follows the previous within `SESSION_GAP` (vaults/breakglass/
    record.py). It asks for a reason, tells the security contacts and waits for the rotation of
    the item's secret. Names are snapshots: the event must read the same after the item, the
    vault or the person is gone."""

    class ReasonBy(models.TextChoices):
        USER = "user", "The user, through the signed link"
        LEAD = "lead", "The vault owner, through the signed link"
        PERSON = "person", "A person in OpenClaw"

    account = models.ForeignKey("vaults.Account", on_delete=models.CASCADE, related_name="emergency_uses")
    vault = models.ForeignKey("vaults.Vault", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    item = models.ForeignKey("vaults.Item", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    vault_op_id = models.CharField(max_length=64)
    item_op_id = models.CharField(max_length=64)
    vault_name = models.CharField(max_length=1000, blank=True)
    item_title = models.TextField(blank=True)
    user_op_id = models.CharField(max_length=64)
    user_email = models.CharField(max_length=500, blank=True)
    user_name = models.CharField(max_length=500, blank=True)
    first_used_at = models.DateTimeField()
    last_used_at = models.DateTimeField()
    actions = models.JSONField(default=list, blank=True)  # distinct Events API actions, sorted
    use_count = models.PositiveIntegerField(default=1)
    reason = models.TextField(blank=True)
    reason_by = models.CharField(max_length=10, choices=ReasonBy.choices, blank=True)
    reason_by_label = models.CharField(max_length=500, blank=True)  # the e-mail or login name that gave it
    reason_at = models.DateTimeField(null=True, blank=True)
    reason_requested_at = models.DateTimeField(null=True, blank=True)
    contacts_notified_at = models.DateTimeField(null=True, blank=True)
    rotation_due_at = models.DateTimeField()
    # The first sync that saw every secret field of the item changed after the first use.
    rotated_at = models.DateTimeField(null=True, blank=True)
    # Ids of the item's secret fields when the event was recorded (names, never values): a field
    # deleted since proves nothing about rotation, so its absence must not read as "all changed".
    secret_field_ids = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-first_used_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["account", "user_op_id", "item_op_id", "first_used_at"],
                                    name="emergencyuse_unique"),
        ]
        indexes = [models.Index(fields=["account", "first_used_at"], name="emergencyuse_account_time")]

    def __str__(self) -> str:
        return f"Break-glass use of {self.item_title or self.item_op_id} by {self.who} at {self.first_used_at:%Y-%m-%d %H:%M}"

    @property
    def who(self) -> str:
        return self.user_name or self.user_email or self.user_op_id


class EmergencyMailSent(models.Model):
    """One mail about an event to one address (notify.py), as cleanup's NotificationSent: the row
    is written in the same transaction as the mail is handed to the mail server, so a failed send
    leaves no row and the next sync tries that address again, while the addresses already mailed
    get nothing more. Recipients are addresses, not accounts: the user of a break-glass credential
    may have no OpenClaw account."""

    class Mail(models.TextChoices):
        CONTACTS = "contacts", "Security contacts told"
        REASON = "reason", "Reason asked through a signed link"

    event = models.ForeignKey(EmergencyUse, on_delete=models.CASCADE, related_name="mails")
    mail = models.CharField(max_length=10, choices=Mail.choices)
    recipient = models.CharField(max_length=500)  # the address, lower-cased
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "mail", "recipient"], name="breakglass_mail_once"),
        ]

    def __str__(self) -> str:
        return f"{self.mail} mail of event {self.event_id} to {self.recipient}"
