"""The Sync page: every account's runs, live progress of the active one, and "Sync now"."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseStopPolling

from compliance import audit
from openclaw_web.http import HtmxHttpRequest
from openclaw_web.roles import Capability, requires
from vaults.findings.usage_coverage import usage_coverage
from vaults.models import Account, SyncRun
from vaults.sync_queue import enqueue_sync

RECENT_RUNS = 25
# After a sync finishes, its findings are recomputed (vaults/tasks.py); the page waits this long
# for them before it stops polling, so a recomputation that failed cannot keep it polling forever.
FINDINGS_WAIT = timedelta(minutes=5)


class WatchForm(forms.Form):
    """`?run=` names the run whose outcome the page keeps showing once it has finished (the one
    "Sync now" started)."""

    run = forms.IntegerField(required=False, min_value=1)


def _findings_pending(run: SyncRun | None) -> bool:
    """A watched run succeeded and its account's findings are still being recomputed."""
    if run is None or run.status != SyncRun.Status.SUCCEEDED or run.finished_at is None:
        return False
    computed = run.account.findings_computed_at
    return (computed is None or computed < run.finished_at) and timezone.now() - run.finished_at < FINDINGS_WAIT


def _sync_context(watch: int | None) -> dict[str, object]:
    runs = list(SyncRun.objects.select_related("account", "triggered_by")[:RECENT_RUNS])
    active = [run for run in runs if not run.is_finished]
    watched = None
    if watch is not None:
        watched = SyncRun.objects.select_related("account").filter(pk=watch).first()
        watched = watched if watched is not None and watched.is_finished else None
    findings_pending = _findings_pending(watched)
    return {
        "nav": "sync", "runs": runs, "active": active, "accounts": Account.objects.all(), "watched": watched,
        "watch": watch, "findings_pending": findings_pending, "polling": bool(active) or findings_pending,
    }  # fmt: skip


@requires(Capability.VIEW_INVENTORY)
def sync_status(request: HtmxHttpRequest) -> HttpResponse:
    form = WatchForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("Invalid run number.")
    context = _sync_context(form.cleaned_data["run"])
    if request.htmx:
        response = render(request, "vaults/_sync_runs.html", context)
        # 286 tells htmx to stop polling once nothing is running any more.
        return response if context["polling"] else HttpResponseStopPolling(response.content)
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
        messages.success(request, f"Sync of {account.name} queued (run #{run.pk}); its progress shows below.")
    else:
        messages.info(request, f"A sync of {account.name} is already under way (run #{run.pk}).")
    # The page follows this run until it finishes and then keeps its outcome in view.
    return redirect(f"{reverse('sync:status')}?run={run.pk}")
