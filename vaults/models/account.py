from __future__ import annotations

from django.db import models


class Account(models.Model):
    """A 1Password account we sync. Tokens are never stored: only the names of the environment
    variables that hold them on the worker."""

    name = models.CharField(max_length=100, unique=True)
    token_env = models.CharField(
        max_length=100,
        default="OP_SERVICE_ACCOUNT_TOKEN",
        help_text="Environment variable holding the service-account token on the worker.",
    )
    privileged_token_env = models.CharField(
        max_length=100,
        blank=True,
        help_text="Optional second identity (an administrator's session token) for actions a "
        "service account may not run, such as revoking access to vaults it did not create.",
    )
    events_url = models.URLField(blank=True, help_text="1Password Events API base URL.")
    events_token_env = models.CharField(max_length=100, blank=True)
    # Identity of the service account as reported by `op whoami`; grants on vaults it created
    # are the only ones it can change.
    service_account_id = models.CharField(max_length=64, blank=True)
    # The sync's own identity, from `op whoami` at sync time (`user_uuid`, `user_type`): findings,
    # reviews and revocation plans leave this user out, or following them would revoke
    # OpenClaw's own access.
    service_account_user_uuid = models.CharField(max_length=64, blank=True)
    service_account_user_type = models.CharField(max_length=40, blank=True)  # SERVICE_ACCOUNT, or "" for a person
    # Events API cursors per feed ({"itemusages": "...", ...}) so each sync reads only new events.
    events_cursors = models.JSONField(default=dict, blank=True)
    permissions_synced_at = models.DateTimeField(null=True, blank=True)
    # When the findings engine last ran: every finding still present was seen then, so a run
    # that changes nothing writes nothing to the findings table (see Finding.last_seen_at).
    findings_computed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
