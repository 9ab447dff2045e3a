"""Artifacts: generation (command, view, task), SHA-256, listing, downloads, failures, schedules."""

from __future__ import annotations

import hashlib
import time
from email import message_from_bytes
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from compliance.models import AuditLogEntry
from compliance.reports import generate, schedules
from compliance.reports.models import ReportArtifact, ReportSchedule
from compliance.reports.tasks import render_pdf_task, render_xlsx_task
from compliance.reviews.periods import period_containing
from openclaw_web.celery import app
from tests.compliance.reports.helpers import pdf_text
from tests.smtp_inbox import smtp_server
from tests.vaults import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_org(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    account = f.make_account(name="Acme")
    vault = f.make_vault(account=account, name="Payments Production", classification="production")
    user = f.make_op_user(account=account, name="Alice Able")
    f.grant(vault=vault, user=user, permissions=["view_items", "edit_items"])
    item = f.make_item(vault=vault)
    f.make_secret(item=item)
    f.make_usage(account=account, user=user, item=item)
    return account


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_generate_report_command_stores_an_artifact_whose_sha256_is_the_files(small_org, tmp_path):
    out = tmp_path / "out" / "soc2.pdf"
    period = period_containing(timezone.now()).label

    call_command("generate_report", "soc2", "--period", period, "--format", "pdf", "--out", str(out))

    artifact = ReportArtifact.objects.get()
    stored = generate.artifact_path(artifact)
    assert artifact.status == "done" and artifact.generator_label == "manage.py"
    assert artifact.sha256 == sha256_of(stored) == sha256_of(out)
    assert artifact.size == stored.stat().st_size
    assert artifact.parameters["period_start"].startswith(period[:4])
    assert "SOC 2 access review" in pdf_text(out)
    assert AuditLogEntry.objects.filter(action="report.generated", target_id=str(artifact.pk)).exists()


def test_the_command_refuses_a_bad_period(small_org):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="YYYYQn"):
        call_command("generate_report", "soc2", "--period", "Q1-2026", "--format", "pdf")


def test_a_compliance_officer_generates_from_the_page_and_the_task_stores_the_workbook(
        small_org, compliance_officer, client_for, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(compliance_officer).post(
            reverse("reports:generate"), {"kind": "hygiene", "period": "2026Q1", "format": "xlsx"})

    assert response.status_code == 302
    artifact = ReportArtifact.objects.get()
    assert (artifact.status, artifact.generator) == ("done", compliance_officer)
    assert artifact.sha256 == sha256_of(generate.artifact_path(artifact))
    # target_type too: entries about people (people.*) target a user whose id may equal the artifact's.
    actions = list(AuditLogEntry.objects.filter(target_type="reports.reportartifact", target_id=str(artifact.pk))
                   .values_list("action", flat=True))
    assert sorted(actions) == ["report.generated", "report.requested"]


def test_an_auditor_lists_and_downloads_artifacts_and_each_download_is_audit_logged(small_org, auditor, client_for):
    artifact = generate.generate_now(kind="soc2", period=period_containing(timezone.now()), fmt="xlsx")
    client = client_for(auditor)

    listing = client.get(reverse("reports:list")).content.decode()
    response = client.get(reverse("reports:download", args=[artifact.pk]))
    body = b"".join(response.streaming_content)

    assert artifact.sha256 in listing
    assert response.status_code == 200 and hashlib.sha256(body).hexdigest() == artifact.sha256
    assert response["X-Content-SHA256"] == artifact.sha256
    logged = AuditLogEntry.objects.get(action="report.downloaded")
    assert (logged.actor_label, logged.target_id, logged.details["sha256"]) == ("aud_auditor", str(artifact.pk), artifact.sha256)
    assert client.post(reverse("reports:generate"), {"kind": "soc2", "period": "2026Q1", "format": "pdf"}).status_code == 403


def test_a_viewer_can_neither_list_nor_download(small_org, viewer, client_for):
    artifact = generate.generate_now(kind="hygiene", period=period_containing(timezone.now()), fmt="xlsx")
    client = client_for(viewer)

    assert client.get(reverse("reports:list")).status_code == 403
    assert client.get(reverse("reports:download", args=[artifact.pk])).status_code == 403
    assert not AuditLogEntry.objects.filter(action="report.downloaded").exists()


def test_a_failed_render_marks_the_artifact_failed_with_the_reason(small_org, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(generate, "build_report", explode)
    artifact = generate.create_artifact(kind="soc2", period=period_containing(timezone.now()), fmt="pdf", generator=None)

    with pytest.raises(RuntimeError, match="database went away"):
        generate.render_artifact(artifact_id=artifact.pk)

    artifact.refresh_from_db()
    assert artifact.status == "failed" and "database went away" in artifact.error and artifact.finished_at


def test_a_redelivered_task_does_not_render_a_finished_artifact_twice(small_org):
    artifact = generate.generate_now(kind="hygiene", period=period_containing(timezone.now()), fmt="xlsx")
    before = (artifact.sha256, artifact.finished_at)

    again = generate.render_artifact(artifact_id=artifact.pk)

    assert (again.sha256, again.finished_at) == before
    assert AuditLogEntry.objects.filter(action="report.generated").count() == 1


def test_pdfs_go_to_the_pdf_queue_with_time_limits_and_workbooks_to_the_default_queue():
    router = app.amqp.router  # type: ignore[attr-defined]  # celery-types leaves AMQP.router out
    assert router.route({}, render_pdf_task.name)["queue"].name == "pdf"
    assert router.route({}, render_xlsx_task.name)["queue"].name == "default"
    assert 0 < render_pdf_task.soft_time_limit < render_pdf_task.time_limit


def test_the_preview_page_shows_the_same_sections(small_org, auditor, client_for):
    client = client_for(auditor)
    page = client.get(reverse("reports:preview"), {"kind": "soc2", "period": "2026Q1"}).content.decode()
    assert "Production access audit" in page and "CC6.1" in page and "<script>" not in page.split("</head>")[1]
    assert client.get(reverse("reports:preview"), {"kind": "soc2", "period": "nope"}).status_code == 400
    assert client.get(reverse("reports:preview")).status_code == 200


# --- schedules and e-mail delivery to a real SMTP server ------------------------------------------


@pytest.fixture
def smtp(settings):
    yield from smtp_server(settings)


def test_a_due_schedule_generates_the_previous_quarter_once_and_mails_it_to_a_real_smtp_server(
        small_org, smtp, django_capture_on_commit_callbacks):
    ReportSchedule.objects.create(kind="soc2", format="xlsx", cadence="quarterly", attach=True,
                                  recipients=["auditor@example.com", "ciso@example.com"])
    now = timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        requested = schedules.run_due_schedules(now=now)
    with django_capture_on_commit_callbacks(execute=True):
        again = schedules.run_due_schedules(now=now)

    assert len(requested) == 1 and again == []
    artifact = ReportArtifact.objects.get()
    assert artifact.period == period_containing(now).previous().label and artifact.generator_label == "scheduler"
    assert len(smtp.messages) == 1
    _sender, recipients, raw = smtp.messages[0]
    assert sorted(recipients) == ["auditor@example.com", "ciso@example.com"]
    message = message_from_bytes(raw)
    parts = {p.get_filename(): p for p in message.walk() if p.get_filename()}
    attached = parts[artifact.filename].get_payload(decode=True)
    assert isinstance(attached, bytes)
    assert hashlib.sha256(attached).hexdigest() == artifact.sha256
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    assert artifact.sha256 in text and "no secret values" in text
    assert AuditLogEntry.objects.filter(action="report.delivered").count() == 1


def test_a_link_only_schedule_mails_a_link_and_no_attachment(small_org, smtp, django_capture_on_commit_callbacks):
    ReportSchedule.objects.create(kind="hygiene", format="pdf", cadence="monthly", attach=False,
                                  recipients=["lead@example.com"])
    with django_capture_on_commit_callbacks(execute=True):
        schedules.run_due_schedules()

    message = message_from_bytes(smtp.messages[0][2])
    artifact = ReportArtifact.objects.get()
    assert not [p for p in message.walk() if p.get_filename()]
    assert reverse("reports:download", args=[artifact.pk]) in message.as_string()
    assert artifact.period.count("-") == 1  # a month: YYYY-MM


def test_no_secret_of_the_synced_organisation_reaches_the_mail_or_the_files(synced_org, fake_org, smtp,
                                                                              django_capture_on_commit_callbacks):
    for kind, fmt in (("soc2", "xlsx"), ("iso27001", "pdf")):
        ReportSchedule.objects.create(kind=kind, format=fmt, cadence="quarterly", recipients=["a@example.com"])
    with django_capture_on_commit_callbacks(execute=True):
        schedules.run_due_schedules()

    assert len(smtp.messages) == 2
    blobs = [raw for _, _, raw in smtp.messages]
    for artifact in ReportArtifact.objects.all():
        path = generate.artifact_path(artifact)
        blobs.append(pdf_text(path).encode() if artifact.format == "pdf" else path.read_bytes())
    canaries = fake_org.data["canaries"]
    assert canaries
    for blob in blobs:
        for canary in canaries:
            assert canary.encode() not in blob


@pytest.fixture
def media_env(monkeypatch, settings, tmp_path):
    """Set before the worker starts so the worker writes artifacts where this test reads them."""
    media = tmp_path / "media"
    monkeypatch.setenv("MEDIA_ROOT", str(media))
    settings.MEDIA_ROOT = media
    return media


@pytest.mark.worker
@pytest.mark.slow
def test_a_real_worker_renders_a_pdf_from_the_pdf_queue(media_env, celery_worker, compliance_officer):
    account = f.make_account(name="Acme")
    f.make_vault(account=account, name="Payments Production", classification="production")
    artifact = generate.create_artifact(kind="hygiene", period=period_containing(timezone.now()), fmt="pdf",
                                        generator=compliance_officer, parameters={})

    render_pdf_task.delay(artifact.pk)

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        artifact.refresh_from_db()
        if artifact.is_finished:
            break
        time.sleep(0.3)
    assert artifact.status == "done", (artifact.error, celery_worker.log()[-3000:])
    assert artifact.sha256 == sha256_of(media_env / artifact.file_path)
    assert "render_pdf_task" in celery_worker.log()
