"""The signed-in person's own pages: profile and password change."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse_lazy

from openclaw_web.roles import Capability, requires


@requires(Capability.OWN_PROFILE)
def profile(request: HttpRequest) -> HttpResponse:
    return render(request, "openclaw_web/profile.html", {"nav": ""})


password_change = requires(Capability.OWN_PROFILE)(
    auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("password_change_done"))
)
password_change_done = requires(Capability.OWN_PROFILE)(auth_views.PasswordChangeDoneView.as_view())
