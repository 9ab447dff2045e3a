from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from openclaw_web.roles import Capability, requires


@requires(Capability.VIEW_REPORTS)
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "reports/index.html", {"nav": "reports"})
