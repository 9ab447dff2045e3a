from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone

from compliance import audit
from compliance.audit_queries import export_csv, export_xlsx, filtered_entries, target_type_label
from compliance.forms import AuditFilterForm
from openclaw_web.http import HtmxHttpRequest
from openclaw_web.keyset import filter_query, keyset_page, page_links
from openclaw_web.roles import Capability, requires


@requires(Capability.VIEW_AUDIT_LOG)
def audit_log(request: HtmxHttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("Invalid filter.")
    # The log only grows (every API call adds a row): keyset pages newest first, counted to a cap.
    page = keyset_page(filtered_entries(**form.filters()), order=("-seq",), **form.cursor())
    for entry in page:
        entry.target_kind = target_type_label(entry.target_type)  # read by the table
    context = {"nav": "audit", "form": form, "head": audit.chain_head(), "query": filter_query(request).urlencode(),
               **page_links(request, page)}  # fmt: skip
    template = "compliance/_audit_table.html" if request.htmx else "compliance/audit_log.html"
    return render(request, template, context)


@requires(Capability.VIEW_AUDIT_LOG)
def audit_log_export(request: HttpRequest, fmt: str) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("Invalid filter.")
    entries = filtered_entries(**form.filters())
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    if fmt == "csv":
        body, content_type = export_csv(entries), "text/csv; charset=utf-8"
    elif fmt == "xlsx":
        body, content_type = export_xlsx(entries), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        raise Http404("Unknown export format.")
    audit.record("audit_log.exported", request=request, details={"format": fmt, "filters": form.filters()})
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.{fmt}"'
    return response
