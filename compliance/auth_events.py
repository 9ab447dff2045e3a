"""Audit-log sign-ins, sign-outs and failed sign-ins (Django auth signals)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from compliance import audit
from openclaw_web.login_names import recorded_login_name


@receiver(user_logged_in)
def _logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    audit.record("auth.login", actor=user, request=request)


@receiver(user_logged_out)
def _logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit.record("auth.logout", actor=user, request=request)


@receiver(user_login_failed)
def _login_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any) -> None:
    # `credentials` has the password already masked by Django; keep only the login name, and
    # that only as a keyed hash unless it names an account (it may be a mistyped password).
    login_name = recorded_login_name(str(credentials.get("username", "")))
    audit.record("auth.login_failed", actor_label=f"anonymous ({login_name})", request=request, details={"username": login_name})
