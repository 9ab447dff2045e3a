"""The Sync page: every account's runs, live progress of the active one, and "Sync now"."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseStopPolling

from compliance import audit
from openclaw_web.http import HtmxHttpRequest
from openclaw_web.roles import Capability, requires
from vaults.findings.usage_coverage import usage_coverage
from vaults.models import Account, SyncRun
from vaults.sync_queue import enqueue_sync

RECENT_RUNS = 25


def _sync_context() -> dict[str, object]:
    runs = list(SyncRun.objects.select_related("account", "triggered_by")[:RECENT_RUNS])
    active = [run for run in runs if not run.is_finished]
    return {"nav": "sync", "runs": runs, "active": active, "accounts": Account.objects.all()}


@requires(Capability.VIEW_INVENTORY)
def sync_status(request: HtmxHttpRequest) -> HttpResponse:
    context = _sync_context()
    if request.htmx:
        response = render(request, "vaults/_sync_runs.html", context)
        # 286 tells htmx to stop polling once nothing is running any more.
        return response if context["active"] else HttpResponseStopPolling(response.content)
    # What "nobody used it" findings may claim depends on this: shown per account (one query each).
    context["coverage"] = [(account, usage_coverage(account)) for account in Account.objects.all()]
    return render(request, "vaults/sync.html", context)


@requires(Capability.TRIGGER_SYNC)
@require_POST
def sync_now(request: HtmxHttpRequest, account_id: int) -> HttpResponse:
    account = get_object_or_404(Account, pk=account_id)
    run, created = enqueue_sync(account=account, triggered_by=request.user)
    if created:
        audit.record("sync.started", request=request, target=account, details={"sync_run": run.pk})
        messages.success(request, f"Sync of {account.name} queued.")
    else:
        messages.info(request, f"A sync of {account.name} is already under way (run #{run.pk}).")
    return redirect("sync:status")
