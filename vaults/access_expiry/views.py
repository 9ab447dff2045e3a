"""End dates on the person page (set, clear) and the weekly contractor report page."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from openclaw_web.http import HtmxHttpRequest, signed_in_user
from openclaw_web.roles import Capability, requires
from vaults.access_expiry import schedule, sponsorship
from vaults.access_expiry.forms import EndDateForm, ReportFilterForm
from vaults.access_expiry.models import AccessEndDate
from vaults.access_expiry.report import build_report
from vaults.models import OpUser


def _person_url(person: OpUser) -> str:
    return reverse("vaults:person", args=[person.pk]) + "#end-dates"


def _get_end_date_for_user(request: HtmxHttpRequest, pk: int) -> AccessEndDate:
    return get_object_or_404(AccessEndDate.objects.select_related("op_user"), pk=pk)


@requires(Capability.PROPOSE_CLEANUP)
@require_POST
def set_end_date(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(OpUser, pk=pk)
    form = EndDateForm(request.POST, person=person, user=signed_in_user(request))
    if not form.is_valid():
        messages.error(request, "Not saved: " + "; ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(_person_url(person))
    try:
        row = schedule.set_end_date(
            op_user=person, ends_on=form.cleaned_data["ends_on"], vaults=form.chosen_vaults(),
            sponsor=signed_in_user(request), reason=form.cleaned_data["reason"], actor=signed_in_user(request),
            request=request,
        )  # fmt: skip
    except schedule.EndDateRefused as error:
        messages.error(request, str(error))
    else:
        scope = "all access" if row.covers_all else f"{row.vaults.count()} vault(s)"
        messages.success(request, f"End date {row.ends_on.isoformat()} saved for {scope}; you are its sponsor.")
        if outside := sponsorship.outside_scope(signed_in_user(request), sponsorship.covered_vaults(row)):
            messages.info(request, f"{len(outside)} of the vaults it covers are not yours: their removal will be "
                                   "proposed by OpenClaw's expiry identity, for two approvers, not in your name.")  # fmt: skip
    return redirect(_person_url(person))


@requires(Capability.PROPOSE_CLEANUP)
@require_POST
def clear_end_date(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    end_date = _get_end_date_for_user(request, pk)
    try:
        schedule.clear_end_date(end_date=end_date, actor=signed_in_user(request), request=request)
    except schedule.EndDateRefused as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "End date cleared.")
    return redirect(_person_url(end_date.op_user))


@requires(Capability.VIEW_REVIEWS)
def contractor_report(request: HtmxHttpRequest) -> HttpResponse:
    form = ReportFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("Invalid filter.")
    report = build_report()
    rows = [r for r in report.rows if r.anomalies] if form.cleaned_data["anomalies"] else report.rows
    context = {"nav": "vaults", "form": form, "report": report, "rows": rows}
    return render(request, "access_expiry/report.html", context)
