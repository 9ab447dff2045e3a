"""The vault list on a 390 px phone: each vault's health score is in view next to its name.

The account column used to sit between them, so on a phone the score began at the screen's edge and
its band ("Needs attention") was cut off; the table scrolls in its frame for the other columns."""

from __future__ import annotations

import pytest
from django.utils import timezone

from openclaw_web.roles import Role
from tests.e2e.conftest import phone_page, screenshot
from tests.vaults.factories import make_account, make_vault
from vaults.findings.models import HealthSnapshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_vault_scores_are_in_view_at_390_px(browser, live_server, make_user):
    make_user("tom", Role.TEAM_LEAD)
    account = make_account(name="Acme Corporation Europe")
    vault = make_vault(account=account, name="Customer API Development Europe West")
    HealthSnapshot.objects.create(account=account, vault=vault, taken_at=timezone.now(), score=73)
    make_vault(account=account, name="Never Scored")  # a decoy: no snapshot, "not scored"

    with phone_page(browser, live_server.url, "tom") as page:
        page.goto(f"{live_server.url}/vaults/")
        screenshot(page, "vault-list-390")
        cells = {}
        for name in ("Customer API Development Europe West", "Never Scored"):
            cell = page.locator("#vault-table tbody tr", has_text=name).locator("td").nth(1)
            box = cell.bounding_box()
            cells[name] = (cell.inner_text().strip(), box["x"] + box["width"] if box else None)
        width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")

    assert width[0] <= width[1], width
    assert cells["Customer API Development Europe West"][0] == "73 Needs attention", cells
    assert cells["Never Scored"][0] == "not scored", cells
    for name, (_, right) in cells.items():
        assert right is not None and right <= 390, (name, right)
