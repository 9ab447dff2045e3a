"""Where remediation tickets go (a Jira site, a Linear team, a generic webhook) and the tickets
that were created. The credential is never stored: a destination names the environment variable
that holds its Authorization header value, as an Account names its token's variable."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from openclaw_web.env_names import TICKET_AUTH_ENV

# Only variables with this prefix may be named: a destination's URL is chosen in the UI, so a
# free variable name would let whoever edits destinations post SECRET_KEY, FINGERPRINT_KEY or a
# 1Password token to a server of their choosing.
AUTH_ENV_PREFIX = TICKET_AUTH_ENV.prefix
AUTH_ENV_PATTERN = TICKET_AUTH_ENV.pattern

DEFAULT_SUMMARY_TEMPLATE = "[OpenClaw] {severity} {kind}: {title}"
DEFAULT_DESCRIPTION_TEMPLATE = (
    "{explanation}\n\nWhat to do: {recommended_action}\n\n"
    "Account: {account}\nVault: {vault}\nItem: {item_title}\nPerson: {person}\n\nOpenClaw: {link}"
)


class TicketDestination(models.Model):
    class Kind(models.TextChoices):
        JIRA = "jira", "Jira Cloud (REST v3)"
        JIRA_V2 = "jira_v2", "Jira Data Center / Server (REST v2)"
        LINEAR = "linear", "Linear (GraphQL)"
        GENERIC = "generic", "Generic JSON webhook"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # Jira: the site (https://acme.atlassian.net); Linear: the GraphQL endpoint; generic: the
    # webhook itself. http or https only (checked by the form and again before each request).
    url = models.URLField(max_length=500)
    auth_env = models.CharField(
        max_length=100, blank=True,
        help_text=f"Environment variable (name starting {AUTH_ENV_PREFIX}) holding the whole Authorization "
        "header value, e.g. 'Basic …' for Jira Cloud, the API key for Linear. Never stored.",
    )  # fmt: skip
    project = models.CharField(max_length=100, blank=True, help_text="Jira project key, or Linear team id.")
    issue_type = models.CharField(max_length=60, blank=True, default="Task", help_text="Jira issue type name.")
    labels = models.CharField(max_length=300, blank=True, help_text="Comma-separated Jira labels (no spaces).")
    summary_template = models.CharField(max_length=500, default=DEFAULT_SUMMARY_TEMPLATE)
    description_template = models.TextField(max_length=4000, default=DEFAULT_DESCRIPTION_TEMPLATE)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def label_list(self) -> list[str]:
        return [label.strip() for label in self.labels.split(",") if label.strip()]


class TicketLink(models.Model):
    """A ticket created for one subject. Subjects are named by kind and id (compliance/tickets/
    subjects.py) rather than by foreign keys, so a new subject kind needs no migration here."""

    subject_kind = models.CharField(max_length=20)
    subject_id = models.PositiveBigIntegerField()
    # PROTECT: a destination with tickets is disabled, not deleted, so each link keeps its origin.
    destination = models.ForeignKey(TicketDestination, on_delete=models.PROTECT, related_name="links")
    external_key = models.CharField(max_length=100, blank=True)
    url = models.URLField(max_length=2000, blank=True)
    response_status = models.PositiveSmallIntegerField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["subject_kind", "subject_id", "destination"], name="ticket_one_per_destination"),
        ]
        indexes = [models.Index(fields=["subject_kind", "subject_id"], name="ticket_subject")]

    def __str__(self) -> str:
        return f"{self.external_key or 'Ticket'} for {self.subject_kind} {self.subject_id}"


class TicketSend(models.Model):
    """A ticket being created right now: committed before the POST and deleted once its outcome
    is stored. Its unique constraint, not a row lock held across the request, is what keeps a
    second click from posting a second ticket while the first waits on a slow tracker."""

    subject_kind = models.CharField(max_length=20)
    subject_id = models.PositiveBigIntegerField()
    destination = models.ForeignKey(TicketDestination, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=32, unique=True)
    claimed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subject_kind", "subject_id", "destination"], name="ticket_one_send_at_a_time"),
        ]
