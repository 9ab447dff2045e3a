"""Findings pages: the filterable list (one URL for the page and its htmx table fragment), a
finding's detail, and the two decisions a person makes: accept a risk, reopen."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from compliance.models import AuditLogEntry
from openclaw_web.fragment_cache import cached_fragment
from openclaw_web.http import HtmxHttpRequest, signed_in_user
from openclaw_web.keyset import page_links
from openclaw_web.roles import Capability, requires
from vaults.findings import acceptance, counts
from vaults.findings.forms import AcceptRiskForm, FindingFilterForm, FindingSelectionForm
from vaults.findings.keyset import SEARCH_COUNT_CAP, keyset_page
from vaults.findings.models import Finding
from vaults.findings.search import filtered_findings
from vaults.vault_choices import vault_options


def _next_url(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return candidate
    return reverse("findings:list")


@requires(Capability.VIEW_INVENTORY)
def finding_list(request: HtmxHttpRequest) -> HttpResponse:
    form = FindingFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("Invalid filter.")

    def table() -> str:
        data = form.cleaned_data
        page = keyset_page(filtered_findings(**data), sort=data["sort"], after=data["after"], before=data["before"],
                           count_cap=SEARCH_COUNT_CAP if data["q"].strip() else None, total=counts.list_total(**data))
        return render_to_string("findings/_table.html", page_links(request, page), request=request)

    table_html = cached_fragment(request, "findings-table", table)
    if request.htmx:
        return HttpResponse(table_html)
    filters = cached_fragment(request, "findings-filters", lambda: render_to_string(
        "findings/_filters.html", {"form": form, "vault_options": vault_options(request, selected=form.cleaned_data["vault"])}))
    context = {"nav": "findings", "filters": filters, "table": table_html, "accept_form": AcceptRiskForm(),
               "current": request.get_full_path()}  # fmt: skip
    return render(request, "findings/list.html", context)


@requires(Capability.VIEW_INVENTORY)
def finding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    finding = get_object_or_404(Finding.objects.select_related("account", "vault", "item", "op_user", "accepted_by"), pk=pk)
    related = finding.related_items.select_related("vault").order_by("vault__name", "title")
    history = AuditLogEntry.objects.filter(target_type=Finding._meta.label_lower, target_id=str(finding.pk)).order_by("-seq")[:50]
    context = {"nav": "findings", "finding": finding, "related": related, "history": history, "accept_form": AcceptRiskForm()}
    return render(request, "findings/detail.html", context)


@require_POST
@requires(Capability.MANAGE_FINDINGS)
def accept_risk(request: HttpRequest) -> HttpResponse:
    form = AcceptRiskForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(e) for e in errors))
        return HttpResponseRedirect(_next_url(request, request.POST.get("next")))
    changed = acceptance.accept_risk(
        findings=form.cleaned_data["ids"], reason=form.cleaned_data["reason"], until=form.cleaned_data["until"],
        by=signed_in_user(request), request=request,
    )  # fmt: skip
    messages.success(request, f"Accepted the risk of {len(changed)} finding{pluralize(len(changed))} until {form.cleaned_data['until']:%Y-%m-%d}.")
    return redirect(_next_url(request, form.cleaned_data["next"]))


@require_POST
@requires(Capability.MANAGE_FINDINGS)
def reopen(request: HttpRequest) -> HttpResponse:
    form = FindingSelectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Select at least one finding.")
        return HttpResponseRedirect(_next_url(request, request.POST.get("next")))
    changed = acceptance.reopen(findings=form.cleaned_data["ids"], by=signed_in_user(request), request=request)
    messages.success(request, f"Reopened {len(changed)} finding{pluralize(len(changed))}.")
    return redirect(_next_url(request, form.cleaned_data["next"]))
