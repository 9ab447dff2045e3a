"""The vault list on a 390 px phone: each vault's health score is in view next to its name.

The account column used to sit between them, so on a phone the score began at the screen's edge and
its band ("Needs attention") was cut off; the table scrolls in its frame for the other columns."""

from __future__ import annotations

import pytest
from django.utils import timezone

from openclaw_web.roles import Role
from tests.e2e.conftest import screenshot, signed_in_page
from tests.vaults.factories import make_account, make_vault
from vaults.findings.models import HealthSnapshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_vault_scores_are_in_view_at_390_px(browser, live_server, make_user):
    make_user("tom", Role.TEAM_LEAD)
    account = make_account(name="Acme Corporation Europe")
    vault = make_vault(account=account, name="Customer API Development Europe West")
    HealthSnapshot.objects.create(account=account, vault=vault, taken_at=timezone.now(), score=73)
    make_vault(account=account, name="Never Scored")  # a decoy: no snapshot, "not scored"

    with signed_in_page(browser, live_server.url, "tom") as page:
        page.goto(f"{live_server.url}/vaults/")
        screenshot(page, "vault-list-390")
        # What is in view is what the table's scrolling frame shows, not the window.
        frame = page.locator("#vault-table .table-wrap").bounding_box()
        cells = {}
        for name in ("Customer API Development Europe West", "Never Scored"):
            cell = page.locator("#vault-table tbody tr", has_text=name).locator("td.score-cell")
            parts = [cell.locator(".score"), cell.locator(".pill")] if name != "Never Scored" else [cell.locator(".muted")]
            rights = [b["x"] + b["width"] for b in (p.bounding_box() for p in parts) if b]
            cells[name] = (" ".join(cell.inner_text().split()), max(rights) if len(rights) == len(parts) else None)
        heading = page.locator("#vault-table thead th", has_text="Score").bounding_box()

    assert frame is not None and heading is not None
    assert cells["Customer API Development Europe West"][0] == "73 Needs attention", cells
    assert cells["Never Scored"][0] == "not scored", cells
    assert heading["x"] + heading["width"] <= frame["x"] + frame["width"], (heading, frame)
    for name, (_, right) in cells.items():
        assert right is not None and right <= frame["x"] + frame["width"], (name, right, frame)
