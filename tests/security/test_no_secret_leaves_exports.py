"""Invariant 1 extended (tests/vaults/test_no_secret_leaves.py covers the database, Redis, logs
and pages): after a real sync of an organisation whose secrets are `CANARY-…` strings, no
canary is in any API response (every endpoint, every page of every cursor), the audit log
exports, the `findings` command's JSON, any report (PDF text, PDF streams, Excel XML), or an
e-mail (review reminders, scheduled report deliveries with their attachments) — nor any
8-character piece of one (tests/security/canaries.py), so a stored truncation fails too."""

from __future__ import annotations

import io

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from compliance.reports.generate import artifact_path, create_artifact, render_artifact
from compliance.reports.models import ReportArtifact, ReportFormat, ReportKind, ReportSchedule
from compliance.reports.schedules import deliver_scheduled
from compliance.reviews.periods import period_containing
from compliance.reviews.review import open_review, send_reminders
from tests.security.canaries import CanaryScanner, artifact_contents, email_contents, planted_secrets
from tests.security.hostile_org import sync_account
from tests.security.planted import bearer_for
from vaults.findings.models import Finding
from vaults.models import Item, SyncRun

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

MARKER = "CANARY-"
LISTS = ["/api/v1/accounts", "/api/v1/sync-runs", "/api/v1/vaults?include_removed=true",
         "/api/v1/items?include_removed=true", "/api/v1/findings?status=all", "/api/v1/health/history",
         "/api/v1/reviews", "/api/v1/reports"]  # fmt: skip
Haystacks = list[tuple[str, bytes | str]]


def _walk(client: Client, url: str) -> tuple[list[dict], Haystacks]:
    """Every page of a list endpoint (small pages, so cursors really are followed)."""
    rows: list[dict] = []
    bodies: Haystacks = []
    separator = "&" if "?" in url else "?"
    next_url = f"{url}{separator}limit=7"
    while next_url:
        response = client.get(next_url)
        assert response.status_code == 200, next_url
        bodies.append((next_url, response.content))
        page = response.json()
        rows += page["results"]
        next_url = f"{url}{separator}limit=7&cursor={page['next_cursor']}" if page["next_cursor"] else ""
    return rows, bodies


def _every_report_and_its_delivery(recipient: str) -> Haystacks:
    """Each kind of report in each format, rendered as the worker does for a schedule, so each is
    also e-mailed as an attachment (checked with the outbox)."""
    period = period_containing(timezone.now())
    found: Haystacks = []
    for kind in ReportKind.values:
        for fmt in ReportFormat.values:
            schedule = ReportSchedule.objects.create(kind=kind, format=fmt, cadence=ReportSchedule.Cadence.QUARTERLY,
                                                     recipients=[recipient], attach=True)
            artifact = render_artifact(artifact_id=create_artifact(
                kind=kind, period=period, fmt=fmt, generator=None, schedule=schedule).pk)
            assert artifact.status == ReportArtifact.Status.DONE, artifact.error
            deliver_scheduled(artifact)  # the render task's second step
            found += artifact_contents(f"{kind} report {fmt}", artifact_path(artifact).read_bytes())
    return found


def test_no_canary_reaches_the_api_the_exports_the_reports_or_an_email(fake_org, admin_user, compliance_officer,
                                                                          client_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    assert any(MARKER in c for c in fake_org.data["canaries"]), "the fake organisation plants no canary"
    scanner = CanaryScanner(planted_secrets(fake_org.data))
    assert scanner.find(fake_org.path.read_bytes()), "the scan finds nothing where every secret is planted"
    account = fake_org.add_account()
    run = sync_account(account)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert Finding.objects.exists()
    compliance_officer.email = "officer@example.com"
    compliance_officer.save()
    review = open_review(account=account, period=period_containing(timezone.now()), opened_by=admin_user)
    api = Client(headers=bearer_for(admin_user))
    haystacks: Haystacks = []

    for url in LISTS:
        rows, bodies = _walk(api, url)
        haystacks += bodies
        detail = url.split("?")[0]
        haystacks += [(f"{detail}/{row['id']}", api.get(f"{detail}/{row['id']}").content) for row in rows]
    assert Item.objects.count() == len(_walk(api, "/api/v1/items?include_removed=true")[0])
    for row in _walk(api, "/api/v1/reviews")[0]:
        haystacks += _walk(api, f"/api/v1/reviews/{row['id']}/entries")[1]
    haystacks.append(("/api/v1/health", api.get("/api/v1/health").content))

    page = client_for(admin_user)
    for fmt in ("csv", "xlsx"):
        response = page.get(reverse("audit:export", kwargs={"fmt": fmt}))
        assert response.status_code == 200 and len(response.content) > 100, fmt
        haystacks += artifact_contents(f"audit log {fmt}", response.content)
    haystacks += _every_report_and_its_delivery("auditor@example.com")
    out = io.StringIO()
    call_command("findings", "--format", "json", stdout=out)
    haystacks.append(("findings --format json", out.getvalue()))

    assert send_reminders(review=review).sent >= 1
    deliveries = [m for m in mail.outbox if m.attachments]
    assert len(deliveries) == len(ReportKind.values) * len(ReportFormat.values), "every report is e-mailed"
    haystacks += email_contents(mail.outbox)
    assert any(name.endswith("(pdftotext)") and "attachment" in name for name, _ in haystacks)
    scanner.assert_absent(haystacks)
