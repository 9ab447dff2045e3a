"""Tickets pages: the destinations settings page, creating a ticket for a subject, and the
findings-as-tickets CSV export."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from compliance import audit
from compliance.audit_changes import address_label, changed_fields
from compliance.tickets import export, placeholders
from compliance.tickets.forms import CreateTicketForm, DestinationForm, TicketExportForm
from compliance.tickets.models import TicketDestination
from compliance.tickets.sending import TicketError, create_ticket, subject_kind
from openclaw_web.http import signed_in_user
from openclaw_web.roles import Capability, requires
from openclaw_web.site_url import absolute_url
from vaults.findings.search import filtered_findings

AUDITED_FIELDS = DestinationForm.Meta.fields


def _base_url(request: HttpRequest) -> str:
    return absolute_url("/", request=request)


def _snapshot(destination: TicketDestination) -> dict[str, Any]:
    return {name: getattr(destination, name) for name in AUDITED_FIELDS}


@requires(Capability.MANAGE_TICKET_DESTINATIONS)
def destinations(request: HttpRequest) -> HttpResponse:
    form = DestinationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        destination = form.save()
        details = {**_snapshot(destination), "url": address_label(destination.url)}  # a webhook's token stays out
        audit.record("ticket_destination.created", request=request, target=destination, details=details)
        messages.success(request, f"Added the ticket destination {destination.name}.")
        return redirect("tickets:settings")
    rows = TicketDestination.objects.all()
    context = {"nav": "tickets", "form": form, "destinations": rows, "placeholder_help": placeholders.PLACEHOLDERS.items()}
    return render(request, "tickets/settings.html", context, status=400 if form.errors else 200)


@requires(Capability.MANAGE_TICKET_DESTINATIONS)
def destination_edit(request: HttpRequest, pk: int) -> HttpResponse:
    destination = get_object_or_404(TicketDestination, pk=pk)
    before = _snapshot(destination)
    form = DestinationForm(request.POST or None, instance=destination)
    if request.method == "POST" and form.is_valid():
        destination = form.save()
        changed = changed_fields(before, _snapshot(destination), shown={"url": address_label})
        if changed:
            audit.record("ticket_destination.changed", request=request, target=destination, details=changed)
        messages.success(request, f"Saved {destination.name}.")
        return redirect("tickets:settings")
    context = {"nav": "tickets", "form": form, "destination": destination, "ticket_count": destination.links.count(),
               "placeholder_help": placeholders.PLACEHOLDERS.items()}  # fmt: skip
    return render(request, "tickets/destination.html", context, status=400 if form.errors else 200)


@require_POST
@requires(Capability.CREATE_TICKETS)
def create_for_subject(request: HttpRequest, pk: int, subject: str) -> HttpResponse:
    kind = subject_kind(subject)
    try:
        obj = kind.load(pk)
    except ObjectDoesNotExist:
        raise Http404(f"No such {kind.label.lower()}.") from None
    back = kind.page_path(obj) or "/"
    form = CreateTicketForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose an enabled ticket destination.")
        return redirect(back)
    try:
        outcome = create_ticket(subject=kind.name, subject_id=obj.pk, destination_id=form.cleaned_data["destination"].pk,
                                by=signed_in_user(request), base_url=_base_url(request), request=request)  # fmt: skip
    except TicketError as exc:
        messages.error(request, f"No ticket was created: {exc}")
        return redirect(back)
    link = outcome.link
    if outcome.created:
        name = f"ticket {link.external_key}" if link.external_key else "a ticket"
        messages.success(request, f"Created {name} in {link.destination.name}.")
    else:
        messages.info(request, f"This {kind.label.lower()} already has a ticket in {link.destination.name}.")
    return redirect(back)


@require_safe  # a download: a POST here is a mistake, answered 405
@requires(Capability.CREATE_TICKETS)
def export_findings_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    form = TicketExportForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("Invalid filter.")
    findings = filtered_findings(**form.cleaned_data)
    destination = form.cleaned_data.get("destination")
    response = StreamingHttpResponse(export.csv_lines(findings, base_url=_base_url(request), destination=destination),
                                     content_type="text/csv; charset=utf-8")  # fmt: skip
    audit.record("tickets.exported", request=request, details={
        "format": "csv", "destination": destination.name if destination else "", "query": request.GET.urlencode()[:500],
    })  # fmt: skip
    response["Content-Disposition"] = f'attachment; filename="finding-tickets-{timezone.now():%Y%m%d-%H%M%S}.csv"'
    return response

