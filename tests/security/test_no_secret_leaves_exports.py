"""Invariant 1 extended (tests/vaults/test_no_secret_leaves.py covers the database, Redis, logs
and pages): after a real sync of an organisation whose secrets are `CANARY-…` strings, no
canary is in any API response (every endpoint, every page of every cursor), the audit log
exports, the `findings` command's JSON, or an Excel report."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from compliance.reports.generate import generate_now
from compliance.reviews.periods import period_containing
from compliance.reviews.review import open_review
from tests.security.hostile_org import sync_account
from tests.security.planted import bearer_for
from vaults.findings.models import Finding
from vaults.models import Item, SyncRun

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

MARKER = "CANARY-"
LISTS = ["/api/v1/accounts", "/api/v1/sync-runs", "/api/v1/vaults?include_removed=true",
         "/api/v1/items?include_removed=true", "/api/v1/findings?status=all", "/api/v1/health/history",
         "/api/v1/reviews", "/api/v1/reports"]  # fmt: skip


def _walk(client: Client, url: str) -> tuple[list[dict], str]:
    """Every page of a list endpoint (small pages, so cursors really are followed)."""
    rows, bodies = [], []
    separator = "&" if "?" in url else "?"
    next_url = f"{url}{separator}limit=7"
    while next_url:
        response = client.get(next_url)
        assert response.status_code == 200, next_url
        bodies.append(response.content.decode())
        page = response.json()
        rows += page["results"]
        next_url = f"{url}{separator}limit=7&cursor={page['next_cursor']}" if page["next_cursor"] else ""
    return rows, "\n".join(bodies)


def test_no_canary_reaches_the_api_the_exports_or_the_reports(fake_org, admin_user, client_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    assert any(MARKER in c for c in fake_org.data["canaries"]), "the fake organisation plants no canary"
    account = fake_org.add_account()
    run = sync_account(account)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert Finding.objects.exists()
    open_review(account=account, period=period_containing(timezone.now()), opened_by=admin_user)
    generate_now(kind="hygiene", period=period_containing(timezone.now()), fmt="xlsx", out=tmp_path / "hygiene.xlsx")
    api = Client(headers=bearer_for(admin_user))
    leaks: list[str] = []

    for url in LISTS:
        rows, body = _walk(api, url)
        if MARKER in body:
            leaks.append(url)
        detail = url.split("?")[0]
        for row in rows:
            if MARKER in api.get(f"{detail}/{row['id']}").content.decode():
                leaks.append(f"{detail}/{row['id']}")
    assert Item.objects.count() == len(_walk(api, "/api/v1/items?include_removed=true")[0])
    for review in _walk(api, "/api/v1/reviews")[0]:
        if MARKER in _walk(api, f"/api/v1/reviews/{review['id']}/entries")[1]:
            leaks.append(f"review {review['id']} entries")
    if MARKER in api.get("/api/v1/health").content.decode():
        leaks.append("/api/v1/health")

    page = client_for(admin_user)
    if MARKER in page.get(reverse("audit:export", kwargs={"fmt": "csv"})).content.decode():
        leaks.append("audit log CSV")
    with zipfile.ZipFile(io.BytesIO(page.get(reverse("audit:export", kwargs={"fmt": "xlsx"})).content)) as book:
        if any(MARKER in book.read(name).decode(errors="replace") for name in book.namelist()):
            leaks.append("audit log XLSX")
    with zipfile.ZipFile(tmp_path / "hygiene.xlsx") as book:
        if any(MARKER in book.read(name).decode(errors="replace") for name in book.namelist()):
            leaks.append("hygiene report XLSX")
    out = io.StringIO()
    call_command("findings", "--format", "json", stdout=out)
    if MARKER in out.getvalue():
        leaks.append("findings --format json")

    assert leaks == []
