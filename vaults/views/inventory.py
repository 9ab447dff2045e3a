from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from openclaw_web.roles import Capability, requires
from vaults.models import Vault


@requires(Capability.VIEW_INVENTORY)
def vault_list(request: HttpRequest) -> HttpResponse:
    vaults = Vault.objects.filter(removed_at__isnull=True).select_related("account")
    return render(request, "vaults/vault_list.html", {"nav": "vaults", "vaults": vaults})
