from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from openclaw_web.roles import Capability, requires
from vaults.models import Item, SyncRun, Vault


@requires(Capability.VIEW_INVENTORY)
def dashboard(request: HttpRequest) -> HttpResponse:
    context = {
        "nav": "dashboard",
        "vault_count": Vault.objects.filter(removed_at__isnull=True).count(),
        "item_count": Item.objects.filter(removed_at__isnull=True, archived=False).count(),
        "last_sync": SyncRun.objects.select_related("account").first(),
    }
    return render(request, "vaults/dashboard.html", context)
