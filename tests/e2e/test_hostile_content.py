"""Hostile data in a real browser: an organisation whose item titles, tags, field labels, vault
names and people are `<script>`, `"><img onerror>`, `=HYPERLINK(...)`, right-to-left overrides and
10 kB of text, synced through the real fake `op`, plus a failed sync on non-UTF-8 `op` output.
Every page is opened in Chromium as an admin: no dialog may ever open, no script error may be
thrown and the Content-Security-Policy must never have to block anything."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Dialog

from tests.e2e.conftest import screenshot, sign_in
from tests.security.hostile_org import build, pks_for, sync_account
from tests.security.routes import ROUTES
from tests.vaults.conftest import fake_org, org_sizes  # noqa: F401  (fixtures)
from vaults.models import SyncRun

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple 9"
HOSTILE_QUERY = "?q=" + quote('"><img src=x onerror=alert(1)><script>alert(2)</script>')
SKIPPED = {"logout": "signs the walker out"}


def _html_pages(admin, org) -> list[str]:
    """Every GET route that answers an HTML page, with real objects, plus hostile queries."""
    client = Client()
    client.force_login(admin)
    urls: list[str] = []
    for name, _pattern, kwargs in ROUTES:
        if name.startswith("api:") or name in SKIPPED:
            continue
        if kwargs:
            pks = pks_for(name, org) or []
            candidates = [reverse(name, kwargs={next(iter(kwargs)): pk}) for pk in pks if "fmt" not in kwargs]
        else:
            candidates = [reverse(name), reverse(name) + HOSTILE_QUERY]
        for url in candidates:
            response = client.get(url)
            if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
                urls.append(url)
    return urls


def test_no_hostile_text_ever_runs_script_in_chromium(page, live_server, admin_user, fake_org, monkeypatch, settings, tmp_path):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path / "media"
    org = build(fake_org, admin=admin_user)
    monkeypatch.setenv("FAKE_OP_NON_UTF8", "vault list")
    failed = sync_account(org.account)
    assert failed.status == SyncRun.Status.FAILED and "UTF-8" in failed.error
    monkeypatch.delenv("FAKE_OP_NON_UTF8")
    urls = _html_pages(admin_user, org)
    assert len(urls) >= 25, urls

    dialogs: list[str] = []
    csp_reports: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(f"{page.url}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.on("console", lambda msg: csp_reports.append(f"{page.url}: {msg.text}")
            if msg.type == "error" and "Content Security Policy" in msg.text else None)  # fmt: skip
    sign_in(page, live_server.url, admin_user.username, PASSWORD)
    page.wait_for_url(f"{live_server.url}/")

    for url in urls:
        page.goto(f"{live_server.url}{url}", wait_until="load")
    page.goto(f"{live_server.url}{reverse('findings:list')}")
    search = page.locator("input[name=q]:not(#header-search-q)")
    search.fill('<img src=x onerror=alert("typed")>')
    search.press("Enter")
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_server.url}{reverse('sync:status')}")
    assert page.get_by_text("UTF-8").first.is_visible()
    for api_url in ("/api/v1/items?limit=200", "/api/v1/findings?limit=200", "/api/v1/vaults"):
        page.goto(f"{live_server.url}{api_url}", wait_until="load")
    screenshot(page, "hostile-content-last-page")

    assert dialogs == []
    assert page.js_errors == []
    assert csp_reports == []
