"""The login name a failed sign-in is recorded under (audit log and django-axes' tables).

People mistype their password into the username field. A name that matches no account is
therefore kept only as a keyed hash: HMAC-SHA256 under a key derived from SECRET_KEY for this
one purpose, so a database dump alone cannot be searched for what was typed, while repeated
failures with the same text still share one record (and one lockout counter). A name that is
an existing account's username is kept as it is: it is not a secret, and the audit trail must
say whose account was attacked.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

UNKNOWN_PREFIX = "unknown:"
_KEY_PURPOSE = "openclaw.login_names.unknown-login-name"


def recorded_login_name(typed: str) -> str:
    """`typed` if it is an account's username, else "unknown:" and its keyed hash (64 hex)."""
    user_model = get_user_model()
    if typed and user_model._default_manager.filter(**{user_model.USERNAME_FIELD: typed}).exists():
        return typed
    return UNKNOWN_PREFIX + salted_hmac(_KEY_PURPOSE, typed, algorithm="sha256").hexdigest()


def axes_login_name(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str | None:
    """AXES_USERNAME_CALLABLE: the name axes stores and locks out by, taken from the same places
    axes itself reads it (the credentials given to authenticate(), else the posted form)."""
    typed = credentials.get("username") if credentials else getattr(request, "data", request.POST).get("username")
    if typed is None:
        return None
    return recorded_login_name(str(typed))
