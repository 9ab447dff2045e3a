"""Creating, revoking and checking API tokens.

A token reads `oc_<prefix>_<secret>`: the prefix (8 base32 characters) finds the row, the whole
token's SHA-256 is what is stored and compared. The clear token exists only in the response
that creates it.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import secrets

from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils import timezone

from compliance import audit
from openclaw_web import access_audit
from openclaw_web.models import ApiToken

TOKEN_SCHEME = "oc"  # noqa: S105 - the public "oc_" label of a token, not a secret
MAX_ACTIVE_TOKENS_PER_USER = 20
# `last_used_at` is a hint for a person deciding which token to revoke, not an audit record
# (every call has its own audit entry), so it is written at most once a minute per token.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


class TooManyTokens(Exception):
    pass


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_prefix() -> str:
    return base64.b32encode(secrets.token_bytes(5)).decode("ascii").lower()


def create_token(*, user: User, name: str, request: HttpRequest | None = None) -> tuple[ApiToken, str]:
    """Make a token for `user`; return the row and the clear token (to show once, never store)."""
    if ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() >= MAX_ACTIVE_TOKENS_PER_USER:
        raise TooManyTokens(f"At most {MAX_ACTIVE_TOKENS_PER_USER} active tokens: revoke one first.")
    prefix = _new_prefix()
    while ApiToken.objects.filter(prefix=prefix).exists():  # 40 random bits: practically never loops
        prefix = _new_prefix()
    clear = f"{TOKEN_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    with access_audit.recorded_by_caller(ApiToken):  # the entry below names the owner as actor
        token = ApiToken.objects.create(user=user, name=name, prefix=prefix, token_hash=hash_token(clear))
    audit.record("api_token.created", actor=user, request=request, target=token,
                 details={"name": name, "prefix": prefix})  # fmt: skip
    return token, clear


def revoke_token(*, token: ApiToken, by: User, request: HttpRequest | None = None) -> bool:
    """Revoke once; revoking a revoked token changes nothing and records nothing."""
    changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if changed:
        audit.record("api_token.revoked", actor=by, request=request, target=token,
                     details={"name": token.name, "prefix": token.prefix})  # fmt: skip
    return bool(changed)


def token_for(clear: str) -> ApiToken | None:
    """The active token whose clear text is `clear`, or None. One indexed query."""
    scheme, _, rest = clear.strip().partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != TOKEN_SCHEME or not secret or not (prefix.isascii() and prefix.isalnum() and len(prefix) <= 16):
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=prefix, revoked_at__isnull=True).first()
    if token is None or not hmac.compare_digest(token.token_hash, hash_token(clear.strip())):
        return None
    if not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
