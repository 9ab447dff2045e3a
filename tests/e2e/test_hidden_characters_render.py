"""Issue #14 item 4 in a real browser: on the approval page, a title holding U+202E reads in
Chromium exactly as it is stored (the override shown as a `U+202E` token, not reversing the text),
inside an isolated `<bdi>`, with a visible "hidden characters" badge; a Hebrew title is isolated
and carries no badge."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.e2e.conftest import screenshot, sign_in
from tests.vaults.factories import make_account, make_item, make_vault
from vaults.cleanup import plans
from vaults.cleanup.models import ProposedAction
from vaults.models import Vault

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple 9"
Kind = ProposedAction.Kind


def test_an_approver_reads_a_spoofed_title_as_it_is_stored(page, live_server, team_lead, approver):
    vault = make_vault(
        account=make_account(name="Acme"), name="Shared Finance", classification=Vault.Classification.SHARED
    )
    spoofed = make_item(vault=vault, title="Invoice \u202egpj.exe Production Key")
    hebrew = make_item(vault=vault, title="מפתח API")
    plan = plans.create_plan(
        account=vault.account, proposed_by=team_lead, title="Renames",
        specs=[plans.ActionSpec(Kind.RENAME_ITEM, vault, item=spoofed, params={"title": "Invoice Production Key"}),
               plans.ActionSpec(Kind.RENAME_ITEM, vault, item=hebrew, params={"title": "Hebrew API Key"})],
    )  # fmt: skip
    plans.submit_plan(plan=plan, user=team_lead)
    spoofed_row = f"#action-{plan.actions.get(item=spoofed).pk}"
    hebrew_row = f"#action-{plan.actions.get(item=hebrew).pk}"

    sign_in(page, live_server.url, approver.username, PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}{reverse('cleanup:plan', args=[plan.pk])}")
    screenshot(page, "hidden-characters-approval-page")

    target = page.locator(f"{spoofed_row} .title-cell").first
    assert target.inner_text().startswith("Invoice U+202Egpj.exe Production Key (Shared Finance)")
    assert page.locator(f"{spoofed_row} .hidden-chars-badge").first.is_visible()
    assert "U+202E" in page.locator(f"{spoofed_row} .hidden-chars-badge").first.inner_text()
    bidi = target.locator("bdi").first.evaluate("element => getComputedStyle(element).unicodeBidi")
    assert bidi == "isolate"
    # The decoy: right-to-left text is isolated as well, and nothing warns about it.
    assert page.locator(f"{hebrew_row} .title-cell bdi").first.inner_text() == "מפתח API (Shared Finance)"
    assert page.locator(f"{hebrew_row} .hidden-chars-badge").count() == 0
    # The English sentence holding the Hebrew title stays left-to-right.
    effect = page.locator(f"{hebrew_row} td:nth-child(3) div.small bdi").first
    assert effect.inner_text() == "“מפתח API” is renamed to “Hebrew API Key”."
    assert effect.evaluate("element => getComputedStyle(element).direction") == "ltr"
    assert page.js_errors == []
