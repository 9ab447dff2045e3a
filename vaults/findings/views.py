from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from openclaw_web.roles import Capability, requires


@requires(Capability.VIEW_INVENTORY)
def finding_list(request: HttpRequest) -> HttpResponse:
    return render(request, "findings/list.html", {"nav": "findings"})
