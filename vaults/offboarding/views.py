"""Leavers: the list of offboarding cases, one case with its plan and timeline, and the buttons
that open, turn into actions or cancel a case."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from openclaw_web.http import HtmxHttpRequest
from openclaw_web.roles import Capability, requires
from vaults.cleanup.plans import PlanError
from vaults.forms import PageForm
from vaults.models import OpUser
from vaults.offboarding import actions, cases, completion, timeline
from vaults.offboarding.case_counts import case_counts
from vaults.offboarding.forms import CancelForm, CaseFilterForm, MarkLeavingForm
from vaults.offboarding.models import OffboardingCase
from vaults.views.fragments import render_page_or_fragment

PAGE_SIZE = 50
# Secrets per page of a case: the page's summary and a first screenful of production lines stay
# in view (262 lines on one page of a demo case were 16,800 px tall).
LINES_PER_PAGE = 50


def _get_case_for_user(request: HtmxHttpRequest, pk: int) -> OffboardingCase:
    return get_object_or_404(OffboardingCase.objects.select_related("account", "op_user", "plan", "opened_by"), pk=pk)


@requires(Capability.VIEW_CLEANUP)
def case_list(request: HtmxHttpRequest) -> HttpResponse:
    form = CaseFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("Invalid filter.")
    rows = OffboardingCase.objects.select_related("account", "op_user", "plan")
    status = form.cleaned_data["status"]
    today = timezone.now().date()
    if status in ("", "overdue"):
        rows = rows.filter(status=OffboardingCase.Status.OPEN)
        if status == "overdue":
            rows = rows.filter(due_date__lt=today)
    elif status != "all":
        rows = rows.filter(status=status)
    if form.cleaned_data["account"]:
        rows = rows.filter(account=form.cleaned_data["account"])
    open_cases = OffboardingCase.objects.filter(status=OffboardingCase.Status.OPEN)
    context = {
        "nav": "offboarding",
        "form": form,
        "page": Paginator(rows.order_by("due_date", "pk"), PAGE_SIZE).get_page(request.GET.get("page")),
        "open_count": open_cases.count(),
        "overdue_count": open_cases.filter(due_date__lt=today).count(),
        "sla_days": cases.sla_days(),
    }
    return render_page_or_fragment(request, "offboarding/list.html", "offboarding/_case_table.html", context)


@requires(Capability.VIEW_CLEANUP)
def case_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    case = _get_case_for_user(request, pk)
    page_form = PageForm(request.GET)
    if not page_form.is_valid():
        return HttpResponseBadRequest("Invalid page.")
    plan = cases.case_plan(case)
    context = {
        "nav": "offboarding",
        "case": case,
        "plan": plan,
        # A leaver's plan runs to hundreds of secrets: a page of them under the whole plan's counts.
        "lines": Paginator(plan.lines, LINES_PER_PAGE).get_page(page_form.page_number()),
        "counts": case_counts(case, plan),
        "blockers": completion.blockers(case) if case.is_open else [],
        "further_plans": case.further_plans.order_by("pk") if case.pk else [],
        # A further "Create actions" for what the first plan left out (vaults its proposer does not own).
        "remaining_actions": len(actions.remaining_specs(case)[0]) if case.is_open and case.plan_id else 0,
        "timeline": timeline.timeline(case),
        "cancel_form": CancelForm(),
    }
    return render(request, "offboarding/detail.html", context)


@require_POST
@requires(Capability.PROPOSE_CLEANUP)
def create_actions(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    case = _get_case_for_user(request, pk)
    try:
        created = actions.create_actions(case=case, user=request.user, request=request)  # type: ignore[arg-type]  # authenticated by @requires
    except (cases.CaseRefused, PlanError) as error:
        messages.error(request, str(error))
        return redirect("offboarding:detail", pk=case.pk)
    messages.success(request, f"{created.plan.actions.count()} actions submitted for approval.")
    for note in created.skipped[:20]:
        messages.warning(request, f"Not turned into an action: {note}")
    return redirect("offboarding:detail", pk=case.pk)


@require_POST
@requires(Capability.PROPOSE_CLEANUP)
def cancel(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    case = _get_case_for_user(request, pk)
    form = CancelForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Say why the case closes.")
    try:
        cases.cancel_case(case=case, user=request.user, note=form.cleaned_data["note"], request=request)  # type: ignore[arg-type]
    except cases.CaseRefused as error:
        messages.error(request, str(error))
    return redirect("offboarding:detail", pk=case.pk)


@require_POST
@requires(Capability.PROPOSE_CLEANUP)
def mark_leaving(request: HtmxHttpRequest, person_pk: int) -> HttpResponse:
    person = get_object_or_404(OpUser.objects.select_related("account"), pk=person_pk)
    form = MarkLeavingForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("; ".join(str(e) for errors in form.errors.values() for e in errors))
    try:
        case = cases.mark_leaving(op_user=person, leave_date=form.cleaned_data["leave_date"], user=request.user, request=request)  # type: ignore[arg-type]
    except cases.CaseRefused as error:
        messages.error(request, str(error))
        return redirect("vaults:person", pk=person.pk)
    return redirect("offboarding:detail", pk=case.pk)
