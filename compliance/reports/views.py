"""Reports: artifacts (list, generate, status, download), HTML preview, schedules."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from compliance import audit
from compliance.reports import generate
from compliance.reports.builders import build_report
from compliance.reports.document import TOP_ROWS
from compliance.reports.forms import GenerateForm, PreviewForm, ScheduleForm
from compliance.reports.models import ReportArtifact, ReportSchedule
from compliance.reviews.periods import period_containing
from openclaw_web.http import HtmxHttpRequest, signed_in_user
from openclaw_web.person_labels import name_with_role
from openclaw_web.roles import Capability, has_capability, requires


def _default_period() -> str:
    """The last complete quarter: what an auditor asks for, and the one period both Generate and
    Preview start on, so a preview shows what Generate would write."""
    return period_containing(timezone.now()).previous().label


def _index_context(request: HtmxHttpRequest, *, form: GenerateForm | None = None,
                   schedule_form: ScheduleForm | None = None) -> dict[str, object]:
    artifacts = ReportArtifact.objects.select_related("generator").order_by("-created_at", "-pk")
    page = Paginator(artifacts, 25).get_page(request.GET.get("page"))
    can_generate = has_capability(request.user, Capability.GENERATE_REPORTS)
    period = _default_period()
    return {
        "nav": "reports", "page": page, "can_generate": can_generate,
        "form": form or GenerateForm(initial={"period": period, "kind": "soc2", "format": "pdf"}),
        "schedule_form": schedule_form or ScheduleForm(),
        "schedules": ReportSchedule.objects.order_by("kind", "cadence", "pk") if can_generate else [],
        "preview_form": PreviewForm(initial={"period": period, "kind": "soc2"}),
    }  # fmt: skip


@requires(Capability.VIEW_REPORTS)
def index(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "reports/index.html", _index_context(request))


@requires(Capability.GENERATE_REPORTS)
@require_POST
def generate_view(request: HtmxHttpRequest) -> HttpResponse:
    form = GenerateForm(request.POST)
    if not form.is_valid():
        return render(request, "reports/index.html", _index_context(request, form=form), status=400)
    data = form.cleaned_data
    parameters = {"account": data["account"].name} if data["account"] else {}
    artifact = generate.request_report(kind=data["kind"], period=data["period"], fmt=data["format"],
                                       generator=signed_in_user(request), parameters=parameters)
    # Queued is what it is: a worker renders it (in the demo, a background thread), and the
    # artifact's row on the list polls its status from Queued through Running to Done.
    messages.success(request, f"{artifact} queued; its row below shows its progress and a download link when done.")
    return redirect(reverse("reports:list") + f"#artifact-{artifact.pk}")


@requires(Capability.VIEW_REPORTS)
def artifact_row(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The htmx polling target of a queued or running artifact; it stops polling once finished."""
    artifact = get_object_or_404(ReportArtifact.objects.select_related("generator"), pk=pk)
    return render(request, "reports/_artifact_row.html", {"artifact": artifact})


@requires(Capability.VIEW_REPORTS)
def download(request: HtmxHttpRequest, pk: int) -> FileResponse:
    artifact = get_object_or_404(ReportArtifact, pk=pk, status=ReportArtifact.Status.DONE)
    path = generate.artifact_path(artifact)
    if not path.is_file():
        raise Http404("The file of this artifact is missing from the artifact store.")
    generate.record_download(artifact=artifact, request=request)
    response = FileResponse(path.open("rb"), as_attachment=True, filename=artifact.filename)
    response["X-Content-SHA256"] = artifact.sha256
    return response


@requires(Capability.VIEW_REPORTS)
def preview(request: HtmxHttpRequest) -> HttpResponse:
    """The report as a page, from the same data the PDF and workbook use (first rows only)."""
    if not request.GET:
        return render(request, "reports/preview.html", {"nav": "reports", "form": PreviewForm(initial={"period": _default_period(), "kind": "soc2"}), "doc": None})
    form = PreviewForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("Choose a report kind and a period such as 2026Q1.")
    data = form.cleaned_data
    doc = build_report(kind=data["kind"], period=data["period"], accounts=[data["account"]] if data["account"] else None,
                       generator=name_with_role(request.user), now=timezone.now())
    return render(request, "reports/preview.html", {"nav": "reports", "form": form, "doc": doc, "top_rows": TOP_ROWS})


@requires(Capability.GENERATE_REPORTS)
@require_POST
def schedule_create(request: HtmxHttpRequest) -> HttpResponse:
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        return render(request, "reports/index.html", _index_context(request, schedule_form=form), status=400)
    schedule = form.save(commit=False)
    schedule.recipients = form.cleaned_data["recipients_text"]
    schedule.created_by = signed_in_user(request)
    schedule.save()
    audit.record("report.schedule_created", request=request, target=schedule,
                 details={"kind": schedule.kind, "format": schedule.format, "cadence": schedule.cadence,
                          "recipients": schedule.recipients, "attach": schedule.attach})
    messages.success(request, f"Schedule created: {schedule}.")
    return redirect("reports:list")


@requires(Capability.GENERATE_REPORTS)
@require_POST
def schedule_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    schedule = get_object_or_404(ReportSchedule, pk=pk)
    audit.record("report.schedule_deleted", request=request, target=schedule, details={"recipients": schedule.recipients})
    schedule.delete()
    messages.success(request, "Schedule deleted.")
    return redirect("reports:list")
