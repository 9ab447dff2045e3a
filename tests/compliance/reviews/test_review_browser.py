"""The review page in Debian's Chromium: an inline (htmx) decision updates its row, a refused one
shows its error on the row (422 swapped in), with no CSP violation or script error."""

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
    row.locator("button[value=revoke]").first.click()  # no reason yet: refused on the row
    page.wait_for_selector(f"#entry-{entry.pk} .review-row-error")
    assert "justification is required" in row.inner_text()
    assert row.locator("[data-reason]").get_attribute("open") is not None
    row.locator("textarea[name=justification]").fill("Bob moved to the data team.")
    row.locator("[data-save]").click()
    page.wait_for_selector(f"#entry-{entry.pk} .decision-revoke")

    screenshot(page, "review-detail")
    assert "Bob moved to the data team." in page.locator(f"#entry-{entry.pk}").inner_text()
    assert page.js_errors == [] and not [c for c in console if "Content Security Policy" in c]
    entry.refresh_from_db()
    assert entry.decision == "revoke"
