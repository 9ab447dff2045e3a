from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone

from compliance import audit
from compliance.audit_queries import export_csv, export_xlsx, filtered_entries, target_type_label
from compliance.forms import AuditFilterForm
from openclaw_web.http import HtmxHttpRequest
from openclaw_web.roles import Capability, requires


@requires(Capability.VIEW_AUDIT_LOG)
def audit_log(request: HtmxHttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("Invalid filter.")
    page = Paginator(filtered_entries(**form.cleaned_data), 50).get_page(request.GET.get("page"))
    for entry in page:
        entry.target_kind = target_type_label(entry.target_type)  # type: ignore[attr-defined]  # read by the table
    context = {"nav": "audit", "form": form, "page": page, "head": audit.chain_head(), "query": request.GET.urlencode()}
    template = "compliance/_audit_table.html" if request.htmx else "compliance/audit_log.html"
    return render(request, template, context)


@requires(Capability.VIEW_AUDIT_LOG)
def audit_log_export(request: HttpRequest, fmt: str) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("Invalid filter.")
    entries = filtered_entries(**form.cleaned_data)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    if fmt == "csv":
        body, content_type = export_csv(entries), "text/csv; charset=utf-8"
    elif fmt == "xlsx":
        body, content_type = export_xlsx(entries), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        raise Http404("Unknown export format.")
    audit.record("audit_log.exported", request=request, details={"format": fmt, "filters": form.cleaned_data})
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.{fmt}"'
    return response
