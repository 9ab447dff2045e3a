"""Report artifacts: list, detail and download (each download is in the audit log with the
file's SHA-256, as recorded when it was generated)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router

from compliance.reports.models import ReportArtifact, ReportFormat, ReportKind
from openclaw_web.api.auth import ApiAuth
from openclaw_web.api.inventory import PageParams
from openclaw_web.api.pagination import paginate
from openclaw_web.api.schemas import Id, ReportOut, ReportPage
from openclaw_web.roles import Capability

router = Router(auth=ApiAuth(Capability.VIEW_REPORTS), tags=["reports"])

CONTENT_TYPES: dict[str, str] = {
    ReportFormat.PDF.value: "application/pdf",
    ReportFormat.XLSX.value: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ReportFormat.ZIP.value: "application/zip",
}


class ReportFilters(PageParams):
    kind: ReportKind | None = None
    status: ReportArtifact.Status | None = None


@router.get("/reports", response=ReportPage)
def list_reports(request: HttpRequest, params: Query[ReportFilters]) -> dict[str, Any]:
    """Newest first."""
    artifacts = ReportArtifact.objects.all()
    if params.kind is not None:
        artifacts = artifacts.filter(kind=params.kind)
    if params.status is not None:
        artifacts = artifacts.filter(status=params.status)
    return paginate(artifacts, order=("-id",), cursor=params.cursor, limit=params.limit)


@router.get("/reports/{report_id}", response=ReportOut)
def get_report(request: HttpRequest, report_id: Id) -> ReportArtifact:
    return get_object_or_404(ReportArtifact, pk=report_id)


def artifact_file(artifact: ReportArtifact) -> Path:
    """The finished artifact's file, which must lie inside MEDIA_ROOT; 404 otherwise."""
    if artifact.status != ReportArtifact.Status.DONE or not artifact.file_path:
        raise Http404("This report has no file (yet).")
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / artifact.file_path).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise Http404("The report file is missing.")
    return path


_FILE_RESPONSE = {
    "responses": {
        200: {
            "description": "The artifact file; header X-Content-SHA256 carries its recorded SHA-256.",
            "content": {ct: {"schema": {"type": "string", "format": "binary"}} for ct in CONTENT_TYPES.values()},
        }
    }
}


@router.get("/reports/{report_id}/download", openapi_extra=_FILE_RESPONSE)
def download_report(request: HttpRequest, report_id: Id) -> FileResponse:
    artifact = get_object_or_404(ReportArtifact, pk=report_id)
    path = artifact_file(artifact)
    # Recorded by the API's audit decorator as this call's one entry.
    request.audit_action = "report.downloaded"  # type: ignore[attr-defined]  # read by api.py's audit hook
    request.audit_target = artifact  # type: ignore[attr-defined]  # read by api.py's audit hook
    details = {"sha256": artifact.sha256, "format": artifact.format, "kind": artifact.kind, "period": artifact.period}
    request.audit_details = details  # type: ignore[attr-defined]  # read by api.py's audit hook
    response = FileResponse(path.open("rb"), as_attachment=True, filename=artifact.filename,
                            content_type=CONTENT_TYPES.get(artifact.format, "application/octet-stream"))  # fmt: skip
    response["X-Content-SHA256"] = artifact.sha256
    return response
