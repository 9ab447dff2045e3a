"""Alert channels and rules, the open/cleared state of each alerted condition, and the delivery log.

Single-row rules only; evaluating conditions lives in `evaluate.py`, sending in `deliver.py`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from compliance.alerts.conditions import KINDS
from compliance.audit_changes import address_label
from openclaw_web.env_names import ALERT_ENV


class AlertChannel(models.Model):
    """Where alerts go. Credentials are never stored: a webhook's HMAC key, and optionally its
    URL (a Slack incoming-webhook URL *is* the credential), are read from environment variables
    named here, like the 1Password tokens of an Account."""

    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail"
        WEBHOOK = "webhook", "Webhook (signed JSON)"
        SLACK = "slack", "Slack-compatible incoming webhook"

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    url = models.CharField(max_length=500, blank=True, help_text="http:// or https:// address to POST to.")
    url_env = models.CharField(
        max_length=100, blank=True,
        help_text="Or: the environment variable holding the address (for URLs that carry a token, such as Slack's).",
    )  # fmt: skip
    secret_env = models.CharField(
        max_length=100, blank=True,
        help_text="Environment variable holding the HMAC-SHA256 key the webhook body is signed with.",
    )  # fmt: skip
    recipients = models.JSONField(default=list, blank=True)  # e-mail addresses
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def resolved_url(self) -> str:
        """The address to POST to: the stored one, else the named environment variable's value
        (an ALERT_ variable only, whatever the row says)."""
        if self.url:
            return self.url
        return ALERT_ENV.value(self.url_env)

    @property
    def target_label(self) -> str:
        """What pages and the audit log show: recipients, or scheme and host only (a path or query
        may carry a token)."""
        if self.kind == self.Kind.EMAIL:
            return ", ".join(self.recipients)
        if self.url_env and not self.url:
            return f"address from ${self.url_env}"
        return address_label(self.url)


class AlertRule(models.Model):
    class Kind(models.TextChoices):
        HEALTH_BELOW = "health_below", "Health score below a threshold"
        NEW_HIGH_FINDING = "new_high_finding", "New high-severity finding"
        ANOMALY = "anomaly", "Access anomaly"
        BREAK_GLASS_USE = "break_glass_use", "Break-glass use"
        REVIEW_OVERDUE = "review_overdue", "Access review overdue"
        OFFBOARDING_OVERDUE = "offboarding_overdue", "Offboarding past its SLA"

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    # health_below only: alert while the score is strictly below this.
    threshold = models.PositiveSmallIntegerField(null=True, blank=True)
    account = models.ForeignKey("vaults.Account", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # None: the organisation's score (health) or any vault (other kinds); set: that vault only.
    vault = models.ForeignKey("vaults.Vault", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    channels = models.ManyToManyField(AlertChannel, blank=True, related_name="rules")
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    last_evaluated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


assert set(AlertRule.Kind.values) == set(KINDS)  # one list of kinds: conditions.py and the rule agree


class AlertState(models.Model):
    """One alerted condition of one rule: raised when first seen, cleared when no longer seen.
    At most one open state per (rule, key), so a condition alerts once; after it clears, coming
    back opens a new state and alerts again. Holds the condition's metadata as raised, so every
    delivery (and retry) of it sends the same payload."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="states")
    account = models.ForeignKey("vaults.Account", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    kind = models.CharField(max_length=30)
    title = models.CharField(max_length=500)
    url = models.CharField(max_length=500)
    severity = models.CharField(max_length=10)
    vault_id = models.IntegerField(null=True, blank=True)  # the condition's vault (no FK: a vault may go, its alerts stay)
    details = models.JSONField(default=dict, blank=True)
    raised_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "key"], condition=models.Q(cleared_at__isnull=True), name="alert_state_one_open"
            ),
        ]
        indexes = [models.Index(fields=["rule", "account", "cleared_at"], name="alert_state_rule_account")]

    def __str__(self) -> str:
        return self.title[:200]


class AlertDelivery(models.Model):
    """One alert (or test) to one channel: the delivery log's row; its attempts are below it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    state = models.ForeignKey(AlertState, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.ForeignKey(AlertChannel, on_delete=models.CASCADE, related_name="deliveries")
    is_test = models.BooleanField(default=False)
    payload_digest = models.CharField(max_length=64, blank=True)  # SHA-256 of the body sent
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="alert_delivery_due")]

    def __str__(self) -> str:
        what = "test" if self.is_test else f"alert {self.state_id}"
        return f"Delivery of {what} to {self.channel.name}"


class AlertAttempt(models.Model):
    """Every attempt of a delivery, successful or not."""

    delivery = models.ForeignKey(AlertDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    outcome = models.CharField(max_length=10)  # sent, retry, failed
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["attempted_at", "pk"]

    def __str__(self) -> str:
        return f"{self.outcome} at {self.attempted_at:%Y-%m-%d %H:%M:%S}"
