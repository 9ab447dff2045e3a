"""The usage audit page: who used what, when, from where and how; its CSV and Excel exports."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone

from compliance import audit
from openclaw_web.http import HtmxHttpRequest
from openclaw_web.roles import Capability, requires
from vaults import charts, usage_audit, usage_export
from vaults.forms import PAGE_SIZE
from vaults.usage_form import UsageFilterForm
from vaults.views.fragments import render_page_or_fragment

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@requires(Capability.VIEW_INVENTORY)
def usage(request: HtmxHttpRequest) -> HttpResponseBase:
    """Every role that sees item pages sees their uses here (items.py does not narrow by role)."""
    form = UsageFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("Invalid filter: " + "; ".join(f"{k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items()))
    f = form.usage_filter()
    export = request.GET.get("format", "")
    if export:
        return _export(request, f, export)
    counts = usage_audit.summary(f)
    after = form.after_id()
    event_rows = usage_audit.with_items(usage_audit.events_after(f, after)[: PAGE_SIZE + 1])
    shown = event_rows[:PAGE_SIZE]
    line = counts.timeline
    context: dict[str, Any] = {
        "nav": "usage",
        "form": form,
        "filter": f,
        "events": shown,
        "paged": after is not None,
        "next_after": shown[-1].event.pk if len(event_rows) > PAGE_SIZE else None,
        "people": counts.people,
        "items": counts.items,
        "timeline": line,
        "chart": charts.multi_line(
            [charts.Series(f"Uses per {line.bucket}", line.points)], title=f"Uses per {line.bucket}"
        ) if line.points else None,
        "coverage": usage_audit.coverage(f),
        "query": _query_without(request, "after", "page", "format"),
    }
    return render_page_or_fragment(request, "vaults/usage.html", "vaults/_usage_results.html", context)


def _query_without(request: HtmxHttpRequest, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


def _export(request: HtmxHttpRequest, f: usage_audit.UsageFilter, fmt: str) -> HttpResponseBase:
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response: HttpResponseBase
    if fmt == "csv":
        response = StreamingHttpResponse(usage_export.csv_lines(f), content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        response = HttpResponse(usage_export.xlsx_bytes(f), content_type=XLSX_TYPE)
    else:
        return HttpResponseBadRequest("Unknown export format: csv or xlsx.")
    audit.record("usage.exported", request=request,
                 details={"format": fmt, "query": _query_without(request, "format", "after")[:500]})  # fmt: skip
    response["Content-Disposition"] = f'attachment; filename="usage-{stamp}.{fmt}"'
    return response
