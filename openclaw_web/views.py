"""The signed-in person's own pages: profile, password change, API tokens and two-factor setup."""

from __future__ import annotations

import base64
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from openclaw_web import security, tokens, two_factor
from openclaw_web.forms import ApiTokenForm, TwoFactorCodeForm
from openclaw_web.http import signed_in_user
from openclaw_web.models import ApiToken
from openclaw_web.roles import Capability, requires
from openclaw_web.two_factor_forms import TwoFactorAdminResetForm, TwoFactorStartForm, TwoFactorVerifyForm

TOKENS_SHOWN = 50


def _profile_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    user = signed_in_user(request)
    return {
        "nav": "",
        "tokens": ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at", "-pk")[:TOKENS_SHOWN],
        "token_form": ApiTokenForm(),
        "has_2fa": security.confirmed_device(user) is not None,
        "two_factor_verified": security.is_verified(user),
        "recovery_codes_left": two_factor.recovery_codes_left(user),
        "two_factor_required": security.two_factor_required(user),
        "code_form": TwoFactorCodeForm(),
        **extra,
    }


@requires(Capability.OWN_PROFILE)
def profile(request: HttpRequest) -> HttpResponse:
    return render(request, "openclaw_web/profile.html", _profile_context(request))


password_change = requires(Capability.OWN_PROFILE)(
    auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("password_change_done"))
)
password_change_done = requires(Capability.OWN_PROFILE)(auth_views.PasswordChangeDoneView.as_view())


@never_cache
@requires(Capability.USE_API)
@require_POST
def api_token_create(request: HttpRequest) -> HttpResponse:
    """Rendered, not redirected: the clear token is in this one response and nowhere else (not
    in the session, not in a message), and `never_cache` keeps it out of any cache."""
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return render(request, "openclaw_web/profile.html", _profile_context(request, token_form=form), status=400)
    try:
        token, clear = tokens.create_token(user=signed_in_user(request), name=form.cleaned_data["name"], request=request)
    except tokens.TooManyTokens as exc:
        messages.error(request, str(exc))
        return redirect("profile")
    return render(
        request, "openclaw_web/profile.html", _profile_context(request, new_token=token, new_token_value=clear)
    )


@requires(Capability.USE_API)
@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)  # someone else's token is a 404
    if tokens.revoke_token(token=token, by=signed_in_user(request), request=request):
        messages.success(request, f"Revoked the token “{token.name}”.")
    return redirect("profile")


def _next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("dashboard")


def _render_setup(request: HttpRequest, *, status: int = 200, **extra: Any) -> HttpResponse:
    context: dict[str, Any] = {
        "nav": "",
        "required": security.two_factor_required(request.user),
        "replacing": security.confirmed_device(signed_in_user(request)) is not None,
        "verified": security.is_verified(request.user),
        "needs_password": two_factor.needs_reauthentication(request),
        "start_form": TwoFactorStartForm(initial={"next": request.GET.get("next", "")}),
        **extra,
    }
    if "device" in extra:
        context.update(_key_context(extra["device"]))
    return render(request, "openclaw_web/two_factor_setup.html", context, status=status)


@never_cache
@requires(Capability.OWN_PROFILE)
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """GET explains; POST begins a setup (a first device asks for the password again; a
    replacement needs a session that passed two-factor) and shows the new key once."""
    if request.method != "POST":
        return _render_setup(request)
    form = TwoFactorStartForm(request.POST)
    if not form.is_valid():
        return _render_setup(request, start_form=form, status=400)
    password = form.cleaned_data["password"]
    checks_password = bool(password) and two_factor.needs_reauthentication(request)
    if checks_password and not two_factor.reauthenticate(request=request, password=password):
        form.add_error("password", "That is not your password.")
        return _render_setup(request, start_form=form, status=400)
    try:
        device = two_factor.begin_setup(request=request)
    except two_factor.TwoFactorRefused as exc:
        return _render_setup(request, start_form=form, refusal=str(exc), status=403)
    return _render_setup(request, device=device, form=TwoFactorCodeForm(initial={"next": form.cleaned_data["next"]}))


def _key_context(device: Any) -> dict[str, Any]:
    return {
        "device": device,
        "secret": base64.b32encode(device.bin_key).decode("ascii"),
        "otpauth_uri": device.config_url,
    }


@never_cache
@requires(Capability.OWN_PROFILE)
@require_POST
def two_factor_confirm(request: HttpRequest) -> HttpResponse:
    device = two_factor.pending_device(request)
    if device is None:
        messages.error(request, "Start the setup again: no key from this session is waiting for confirmation.")
        return redirect("two_factor_setup")
    form = TwoFactorCodeForm(request.POST)
    if form.is_valid():
        try:
            confirmed = two_factor.confirm_setup(request=request, device=device, code=form.cleaned_data["code"])
        except two_factor.TwoFactorRefused as exc:
            return _render_setup(request, refusal=str(exc), status=403)
        if confirmed:
            messages.success(request, "Two-factor authentication is on.")
            return redirect(_next(request, form.cleaned_data["next"]) if form.cleaned_data.get("next") else "profile")
        form.add_error("code", "That code does not match: check the clock of the device and try again.")
    return _render_setup(request, device=device, form=form, status=400)


@never_cache
@requires(Capability.OWN_PROFILE)
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    if security.confirmed_device(signed_in_user(request)) is None:
        return redirect("two_factor_setup")
    form = TwoFactorVerifyForm(request.POST or None, initial={"next": request.GET.get("next", "")})
    if request.method == "POST":
        if form.is_valid() and two_factor.verify(request=request, code=form.cleaned_data["code"]):
            return redirect(_next(request, form.cleaned_data.get("next")))
        if form.is_valid():
            form.add_error(
                "code", "That code does not match. After several wrong codes, wait a little before the next try."
            )
        return render(request, "openclaw_web/two_factor_verify.html", {"nav": "", "form": form}, status=400)
    return render(request, "openclaw_web/two_factor_verify.html", {"nav": "", "form": form})


@requires(Capability.OWN_PROFILE)
@require_POST
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    form = TwoFactorCodeForm(request.POST)
    try:
        disabled = form.is_valid() and two_factor.disable(request=request, code=form.cleaned_data["code"])
    except two_factor.TwoFactorRefused as exc:
        messages.error(request, str(exc))
        return redirect("profile")
    if disabled:
        messages.success(request, "Two-factor authentication is off.")
    else:
        messages.error(request, "Enter a current code from your app to turn two-factor authentication off.")
    return redirect("profile")


@never_cache
@requires(Capability.OWN_PROFILE)
@require_POST
def two_factor_recovery_codes(request: HttpRequest) -> HttpResponse:
    """Rendered, not redirected: the clear codes are in this one response and nowhere else
    (only their hashes are stored), and `never_cache` keeps them out of any cache."""
    try:
        codes = two_factor.generate_recovery_codes(request=request)
    except two_factor.TwoFactorRefused as exc:
        messages.error(request, str(exc))
        return redirect("profile")
    return render(request, "openclaw_web/two_factor_recovery_codes.html", {"nav": "", "codes": codes})


@requires(Capability.RESET_TWO_FACTOR)
@require_POST
def two_factor_admin_reset(request: HttpRequest, user_id: int) -> HttpResponse:
    """An administrator removes another person's two-factor device (a lost phone); they enrol again."""
    target = get_object_or_404(get_user_model(), pk=user_id)
    form = TwoFactorAdminResetForm(request.POST)
    back = _next(request, form.cleaned_data["next"] if form.is_valid() else None)
    try:
        two_factor.admin_reset(request=request, target=target)
    except two_factor.TwoFactorRefused as exc:
        messages.error(request, str(exc))
        return redirect(back)
    messages.success(
        request, f"Two-factor authentication of {target.get_username()} is reset: they set it up again at their next sign-in."
    )
    return redirect(back)
