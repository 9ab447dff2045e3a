"""Break-glass pages: the events, one event (record a reason, propose the rotation), and the
signed reason link that works without an OpenClaw account. Thin views over the domain modules."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from compliance import audit
from openclaw_web.http import HtmxHttpRequest, signed_in_user
from openclaw_web.roles import Capability, has_capability, requires
from vaults.breakglass import link_refusals, reasons, record
from vaults.breakglass.forms import EventFilterForm, ReasonForm
from vaults.breakglass.models import EmergencyUse
from vaults.breakglass.rotation import RotationRefused, propose_rotation
from vaults.cleanup import scope
from vaults.models import Vault

PAGE_SIZE = 50
ALREADY_GIVEN = "a reason was already given"


def _filtered(state: str) -> Q:
    now = timezone.now()
    if state == "reason-missing":
        return record.missing_reason(now)
    if state == "rotation-late":
        return record.rotation_late(now)
    if state == "open":
        return Q(reason_at__isnull=True) | Q(rotated_at__isnull=True)
    if state == "closed":
        return Q(reason_at__isnull=False, rotated_at__isnull=False)
    return Q()


@requires(Capability.VIEW_INVENTORY)
def event_list(request: HtmxHttpRequest) -> HttpResponse:
    form = EventFilterForm(request.GET or None)
    if request.GET and not form.is_valid():
        return HttpResponse("Invalid filter.", status=400)
    state = form.cleaned_data.get("state", "") if form.is_bound else ""
    events = EmergencyUse.objects.filter(_filtered(state)).select_related("account", "item", "vault")
    page = Paginator(events.order_by("-first_used_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [(event, record.state(event, now)) for event in page.object_list]
    emergency_vaults = Vault.objects.filter(classification=Vault.Classification.EMERGENCY, removed_at__isnull=True)
    context = {"nav": "breakglass", "form": form, "page": page, "rows": rows,
               "emergency_vaults": emergency_vaults.select_related("account").order_by("name")}
    return render(request, "breakglass/list.html", context)


def _event(pk: int) -> EmergencyUse:
    return get_object_or_404(EmergencyUse.objects.select_related("account", "item", "vault__owner"), pk=pk)


def _may_record(request: HttpRequest, event: EmergencyUse) -> bool:
    """Admins, and leads for the vaults they own (the cleanup scope rule)."""
    if not has_capability(request.user, Capability.PROPOSE_CLEANUP):
        return False
    if event.vault is None:  # the vault is gone: only those who act anywhere
        return scope.proposes_anywhere(request.user)
    return scope.is_in_scope(request.user, event.vault)


@requires(Capability.VIEW_INVENTORY)
def event_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    event = _event(pk)
    recorded_late = event.created_at - event.first_used_at > datetime.timedelta(days=reasons.link_days())
    context = {"nav": "breakglass", "event": event, "state": record.state(event), "form": ReasonForm(),
               "may_record": _may_record(request, event), "reason_hours": record.reason_hours(),
               "recorded_late": recorded_late, "link_days": reasons.link_days()}
    return render(request, "breakglass/detail.html", context)


@requires(Capability.PROPOSE_CLEANUP)
@require_POST
def event_reason(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    event = _event(pk)
    if not _may_record(request, event):
        audit.record("breakglass.reason_refused", request=request, target=event, details={"why": "outside scope"})
        return render(request, "403.html", {"exception": scope.refusal_message([event.vault] if event.vault else [])},
                      status=403)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not saved: write the reason (at most 2,000 characters).")
        return redirect("breakglass:detail", pk=event.pk)
    try:
        reasons.record_reason(event=event, user=signed_in_user(request), reason=form.cleaned_data["reason"],
                              request=request)
    except reasons.ReasonRefused as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Reason recorded.")
    return redirect("breakglass:detail", pk=event.pk)


@requires(Capability.PROPOSE_CLEANUP)
@require_POST
def event_rotate(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    event = _event(pk)
    try:
        landed = propose_rotation(event=event, user=signed_in_user(request))
    except scope.OutsideVaultScope:
        audit.record("cleanup.proposal.outside_scope", request=request, target=event, details={"emergency_use": event.pk})
        return render(request, "403.html", {"exception": scope.refusal_message([event.vault] if event.vault else [])},
                      status=403)
    except RotationRefused as error:
        messages.error(request, str(error))
        return redirect("breakglass:detail", pk=event.pk)
    for action in landed.actions:
        audit.record("cleanup.action.proposed_from_page", request=request, target=action,
                     details={"plan": landed.plan.pk, "kind": action.kind, "emergency_use": event.pk,
                              "identity": action.identity, "new_plan": landed.new_plan})
    messages.success(request, landed.message())
    return redirect(reverse("cleanup:plan", args=[landed.plan.pk]) + f"#action-{landed.actions[-1].pk}")


def reason_link(request: HttpRequest, token: str) -> HttpResponse:
    """The signed link from the e-mail: no sign-in; metadata of the one event; one reason."""
    if request.method == "POST" and link_refusals.too_many(request):
        return render(request, "breakglass/link.html", {"error": "Too many attempts from your address: wait ten "
                                                        "minutes and open the link again."}, status=429)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponse(status=405)
    try:
        holder = reasons.read_token(token)
    except reasons.LinkError as error:
        if request.method == "POST":
            link_refusals.record_refused(request, why=str(error), token=token)
        return render(request, "breakglass/link.html", {"error": str(error)}, status=400)
    event = holder.event
    form = ReasonForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if event.reason_at is not None:
            status = 409
            link_refusals.record_refused(request, why=ALREADY_GIVEN, token=token, holder=holder, event=event)
        elif form.is_valid():
            try:
                reasons.give_reason_by_link(holder=holder, reason=form.cleaned_data["reason"], request=request)
            except reasons.ReasonRefused:  # another post stored one a moment ago
                status = 409
                link_refusals.record_refused(request, why=ALREADY_GIVEN, token=token, holder=holder, event=event)
            else:
                return redirect("breakglass:reason_link", token=token)
        else:
            status = 400
        event.refresh_from_db()
    context = {"event": event, "holder": holder, "form": form, "link_days": reasons.link_days()}
    return render(request, "breakglass/link.html", context, status=status)
