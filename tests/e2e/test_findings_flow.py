"""A team lead filters findings, opens the item behind one, and accepts a risk — in Chromium."""

from __future__ import annotations

import pytest

from openclaw_web.roles import Role
from tests.e2e.conftest import screenshot, sign_in
from tests.vaults.factories import make_account, make_item, make_secret, make_vault
from vaults.findings.engine import compute_findings
from vaults.findings.models import Finding
from vaults.models import Vault

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def organisation():
    account = make_account(name="Acme")
    prod = make_vault(account=account, name="Data Production", classification=Vault.Classification.PRODUCTION)
    database = make_item(vault=prod, title="PostgreSQL Production", category="DATABASE",
                         field_labels=[{"label": "password", "type": "CONCEALED", "section": ""}])
    make_secret(item=database, label="password", purpose="PASSWORD", zxcvbn_score=1, strength="WEAK", length=8)
    for n in range(3):
        item = make_item(vault=prod, title=f"Stripe Production API Key {n}")
        make_secret(item=item, zxcvbn_score=0, strength="TERRIBLE", length=6)
    compute_findings(account=account)
    return database


def test_a_team_lead_filters_findings_opens_the_item_and_accepts_the_risk(page, live_server, make_user, organisation):
    make_user("tom", Role.TEAM_LEAD)
    sign_in(page, live_server.url, "tom", "correct horse battery staple 9")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/findings/")
    page.fill("input[name=q]:not(#header-search-q)", "db password prod")
    page.press("input[name=q]:not(#header-search-q)", "Enter")
    page.wait_for_url(lambda url: "q=db" in url and "password" in url)  # the filter is in the URL
    rows = page.locator("#findings-table tbody tr")
    rows.first.wait_for()
    texts = [rows.nth(n).inner_text() for n in range(rows.count())]
    assert texts and all("PostgreSQL Production" in text for text in texts)  # the Stripe keys are filtered out
    screenshot(page, "findings-filtered")

    page.click("#findings-table tr:has-text('Weak') a.findings-title")
    page.click("dd a:has-text('PostgreSQL Production')")
    page.wait_for_url("**/vaults/items/**")
    assert page.locator("h1").first.inner_text().startswith("PostgreSQL Production")
    assert "Data Production" in page.content()
    screenshot(page, "item-detail")

    page.go_back()
    page.fill("textarea[name=reason], input[name=reason]", "Legacy database, decommissioned next sprint")
    page.fill("input[name=until]", "2027-01-31")
    page.click("button:has-text('Accept risk')")
    page.wait_for_load_state()

    weak = Finding.objects.get(item=organisation, kind="weak")
    assert weak.status == Finding.Status.ACCEPTED
    assert weak.accepted_reason == "Legacy database, decommissioned next sprint"
    assert "Accepted" in page.locator(".findings-head").inner_text()
    assert page.js_errors == []
    screenshot(page, "finding-accepted")
