from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from openclaw_web.roles import Capability, requires
from vaults.models import SyncRun


@requires(Capability.VIEW_INVENTORY)
def sync_status(request: HttpRequest) -> HttpResponse:
    runs = SyncRun.objects.select_related("account")[:20]
    return render(request, "vaults/sync.html", {"nav": "sync", "runs": runs})
