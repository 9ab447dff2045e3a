"""The review page in Debian's Chromium: an inline (htmx) decision updates its row, with no
CSP violation or script error."""

from __future__ import annotations

import pytest
from django.urls import reverse

from compliance.reviews import review as flow
from tests.compliance.reviews.conftest import entry_for
from tests.e2e.conftest import screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_team_lead_decides_inline_and_the_row_updates_without_a_reload(org, compliance_officer, team_lead, page,
                                                                         live_server):
    review = flow.open_review(account=org.account, period=org.period, opened_by=compliance_officer)
    entry = entry_for(review, org.bob, org.payments)
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text) if msg.type == "error" else None)
    sign_in(page, live_server.url, "tom_lead", "correct horse battery staple 9")

    page.goto(f"{live_server.url}{reverse('reviews:detail', args=[review.pk])}?reviewer=mine")
    row = page.locator(f"#entry-{entry.pk}")
    row.locator("input[value=revoke]").check()
    row.locator("textarea[name=justification]").fill("Bob moved to the data team.")
    row.locator("button[type=submit]").click()
    page.wait_for_selector(f"#entry-{entry.pk} .decision-revoke")

    screenshot(page, "review-detail")
    assert "Bob moved to the data team." in page.locator(f"#entry-{entry.pk}").inner_text()
    assert page.js_errors == [] and not [c for c in console if "Content Security Policy" in c]
    entry.refresh_from_db()
    assert entry.decision == "revoke"
