"""Per-user API tokens. Only a SHA-256 hash of a token is stored; the token itself is shown once."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A bearer token for the read-only API, owned by one person and acting with their roles.

    `prefix` is the token's public first part (also shown in lists, so a person can tell their
    tokens apart); it finds the row in one indexed lookup, then the hash of the whole token is
    compared in constant time. A token is 256 random bits, so a plain SHA-256 (no slow KDF) is
    as strong as the token: there is nothing to brute-force."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    token_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class RecoveryCode(models.Model):
    """One single-use two-factor recovery code, for a person who lost their authenticator.

    Only a keyed HMAC-SHA256 of the code is stored (key derived from SECRET_KEY, see
    `openclaw_web.two_factor.hash_recovery_code`): a database dump alone cannot be turned back
    into codes. A code is shown once when generated; `used_at` burns it on first use."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="two_factor_recovery_codes"
    )
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "code_hash"], name="recovery_code_unique_per_user")]

    def __str__(self) -> str:
        return f"recovery code #{self.pk} of user #{self.user_id}"


class DataVersion(models.Model):
    """A counter moved by every audited change people make (openclaw_web/data_versions.py): part of
    the key of every cached page fragment, so a person's change shows on the next request."""

    name = models.CharField(max_length=40, primary_key=True)
    version = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"
