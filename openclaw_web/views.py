"""The signed-in person's own pages: profile, password change, API tokens and two-factor setup."""

from __future__ import annotations

import base64
from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from openclaw_web import security, tokens
from openclaw_web.forms import ApiTokenForm, TwoFactorCodeForm
from openclaw_web.models import ApiToken
from openclaw_web.roles import Capability, requires

TOKENS_SHOWN = 50


def _profile_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    user = request.user
    return {
        "nav": "",
        "tokens": ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at", "-pk")[:TOKENS_SHOWN],  # type: ignore[misc]
        "token_form": ApiTokenForm(),
        "has_2fa": security.confirmed_device(user) is not None,  # type: ignore[arg-type]
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
        token, clear = tokens.create_token(user=request.user, name=form.cleaned_data["name"], request=request)  # type: ignore[arg-type]
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
    if tokens.revoke_token(token=token, by=request.user, request=request):  # type: ignore[arg-type]
        messages.success(request, f"Revoked the token “{token.name}”.")
    return redirect("profile")


def _next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("dashboard")


@never_cache
@requires(Capability.OWN_PROFILE)
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """GET explains; POST makes a new key and shows it (once) with the confirm form."""
    context: dict[str, Any] = {
        "nav": "",
        "required": security.two_factor_required(request.user),
        "next": request.GET.get("next", ""),
    }
    if request.method == "POST":
        device = security.start_setup(user=request.user)  # type: ignore[arg-type]
        context.update(_key_context(device), form=TwoFactorCodeForm(initial={"next": request.POST.get("next", "")}))
    return render(request, "openclaw_web/two_factor_setup.html", context)


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
    device = security.pending_device(request.user)  # type: ignore[arg-type]
    if device is None:
        messages.error(request, "Start the setup again: no key is waiting for confirmation.")
        return redirect("two_factor_setup")
    form = TwoFactorCodeForm(request.POST)
    if form.is_valid() and security.confirm_setup(request=request, device=device, code=form.cleaned_data["code"]):
        messages.success(request, "Two-factor authentication is on.")
        return redirect(_next(request, form.cleaned_data.get("next")) if form.cleaned_data.get("next") else "profile")
    if form.is_valid():
        form.add_error("code", "That code does not match: check the clock of the device and try again.")
    context = {"nav": "", "required": security.two_factor_required(request.user), "form": form, **_key_context(device)}
    return render(request, "openclaw_web/two_factor_setup.html", context, status=400)


@never_cache
@requires(Capability.OWN_PROFILE)
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    if security.confirmed_device(request.user) is None:  # type: ignore[arg-type]
        return redirect("two_factor_setup")
    form = TwoFactorCodeForm(request.POST or None, initial={"next": request.GET.get("next", "")})
    if request.method == "POST":
        if form.is_valid() and security.verify(request=request, code=form.cleaned_data["code"]):
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
    if form.is_valid() and security.disable(request=request, code=form.cleaned_data["code"]):
        messages.success(request, "Two-factor authentication is off.")
    else:
        messages.error(request, "Enter a current code from your app to turn two-factor authentication off.")
    return redirect("profile")
