"""A cleanup plan walked through the browser: a team lead proposes it from a finding, an
approver approves and executes it, and the fake 1Password account really changes."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import screenshot, sign_in
from tests.vaults.cleanup.conftest import FakeOrg, fake_org  # noqa: F401 (fixture)
from vaults.cleanup.models import CleanupPlan
from vaults.findings.models import Finding
from vaults.models import Vault

PASSWORD = "correct horse battery staple 9"


@pytest.mark.django_db(transaction=True)
def test_a_plan_goes_from_proposal_to_approval_to_execution(live_server, page, fake_org: FakeOrg, team_lead, approver):  # noqa: F811
    finding = (
        Finding.objects.filter(
            kind=Finding.Kind.UNCLEAR_NAME,
            status=Finding.Status.OPEN,
        )
        .exclude(vault__classification=Vault.Classification.PRODUCTION)
        .select_related("item")
        .first()
    )
    assert finding is not None
    item = finding.item

    # 1. The team lead proposes from the finding (the finding page links here) and submits.
    sign_in(page, live_server.url, team_lead.username, PASSWORD)
    page.goto(f"{live_server.url}/cleanup/propose/?finding={finding.pk}")
    screenshot(page, "cleanup-01-propose")
    page.click("text=Create draft plan")
    page.wait_for_selector("[data-plan-status=draft]")
    assert page.locator("code.cmd").first.inner_text().startswith(f"op --format json item edit {item.op_id}")
    page.click("summary:has-text('Edit')")
    page.fill("input[name=title]", "Jira Shared Login")
    page.click("button:has-text('Save')")
    screenshot(page, "cleanup-02-draft")
    page.click("text=Submit for approval")
    page.wait_for_selector("[data-plan-status=proposed]")
    assert page.locator("button:has-text('Approve')").count() == 0  # the proposer never sees them
    screenshot(page, "cleanup-03-submitted-as-proposer")
    page.click("button:has-text('Sign out')")

    # 2. The approver approves the plan and executes it.
    sign_in(page, live_server.url, approver.username, PASSWORD)
    plan = CleanupPlan.objects.get()
    page.goto(f"{live_server.url}/cleanup/{plan.pk}/")
    screenshot(page, "cleanup-04-approver-view")
    page.fill("#plan-comment", "Looks right")
    page.click("text=Approve all awaiting actions")
    page.wait_for_selector("[data-action-status=approved]")
    page.click("a:has-text('Dry run')")
    page.wait_for_selector("#dry-run")
    screenshot(page, "cleanup-05-approved-dry-run")
    page.click("[data-test=execute]")
    page.wait_for_selector("[data-action-status=done]", timeout=60_000)
    page.goto(f"{live_server.url}/cleanup/{plan.pk}/")
    screenshot(page, "cleanup-06-executed")
    page.goto(f"{live_server.url}/cleanup/")
    screenshot(page, "cleanup-07-list")

    assert fake_org.item(item.op_id)["title"] == "Jira Shared Login"
    assert page.js_errors == []
