"""Two-factor authentication (TOTP through django-otp) and the policy that can require it.

The global Policy's `require_2fa_for_approvers` makes a TOTP device mandatory for admins and
approvers: until they have confirmed one and entered a code in this session, every page sends
them to set it up or to the verify step, and session API calls are refused. API tokens are
created on the profile page, which sits behind the same gate. Enrolling, replacing and removing a
device, and recovery codes, are in `openclaw_web.two_factor`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from openclaw_web.roles import Role, roles_of

ROLES_THAT_MAY_NEED_2FA = frozenset({Role.ADMIN, Role.APPROVER})
# Pages a person must reach to satisfy the gate (or leave).
OPEN_URL_NAMES = frozenset({"login", "logout", "two_factor_setup", "two_factor_confirm", "two_factor_verify"})


def two_factor_required(user: AbstractBaseUser | AnonymousUser) -> bool:
    if not (roles_of(user) & ROLES_THAT_MAY_NEED_2FA):
        return False
    from vaults.findings.models import Policy

    return bool(Policy.global_policy().require_2fa_for_approvers)


def confirmed_device(user: AbstractBaseUser) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def is_verified(user: Any) -> bool:
    check = getattr(user, "is_verified", None)
    return bool(check and check())


class TwoFactorMiddleware:
    """Sends an admin or approver who must use 2FA to set it up or verify, before any view."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated or is_verified(user):
            return None
        match = request.resolver_match
        if match is not None and match.url_name in OPEN_URL_NAMES:
            return None
        if not two_factor_required(user):
            return None
        if match is not None and match.namespace == "api":
            if "Authorization" in request.headers:
                return None  # a bearer token: its own check decides; the session plays no part
            return JsonResponse(
                {"detail": "Two-factor verification required: verify in the browser first."}, status=403
            )
        target = "two_factor_verify" if confirmed_device(user) is not None else "two_factor_setup"
        return HttpResponseRedirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
