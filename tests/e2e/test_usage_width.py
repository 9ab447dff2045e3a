"""The usage page on a 390 px phone: the counts per person and per item are in view.

Each count table had a name column and a detail column (e-mail, vault), both kept at a readable
width, so the "Uses" column, the answer itself, started past the right edge of the screen."""

from __future__ import annotations

import pytest

from openclaw_web.roles import Role
from tests.e2e.conftest import screenshot, signed_in_page
from tests.vaults.factories import make_account, make_item, make_op_user, make_usage, make_vault

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LONG_NAME = "Maximiliane Alexandra von Hohenzollern-Sigmaringen"
LONG_EMAIL = "maximiliane.von.hohenzollern-sigmaringen@platform.example"
LONG_TITLE = "Payments-Platform-Production-Database-Primary-Replica"
LONG_VAULT = "Platform Engineering Production Secrets"


def test_the_usage_counts_are_in_view_at_390_px(browser, live_server, make_user):
    make_user("tom", Role.TEAM_LEAD)
    account = make_account(name="Acme")
    vault = make_vault(account=account, name=LONG_VAULT)
    item = make_item(vault=vault, title=LONG_TITLE)
    person = make_op_user(account=account, name=LONG_NAME, email=LONG_EMAIL)
    for _ in range(3):
        make_usage(account=account, user=person, item=item)

    with signed_in_page(browser, live_server.url, "tom") as page:
        page.goto(f"{live_server.url}/usage/")
        screenshot(page, "usage-390")
        width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        counts = {}
        for heading in ("people-h", "items-h"):
            table = page.locator(f"section[aria-labelledby={heading}] table")
            cell = table.locator("tbody tr").first.locator("td.num")
            box = cell.bounding_box()
            # In view is what the table's scrolling frame shows, not the window.
            frame = page.locator(f"section[aria-labelledby={heading}] .table-wrap").bounding_box()
            frame_right = frame["x"] + frame["width"] if frame else 0
            counts[heading] = (cell.inner_text().strip(), box["x"] + box["width"] if box else None, frame_right)
        people_text = page.locator("section[aria-labelledby=people-h] table").inner_text()
        items_text = page.locator("section[aria-labelledby=items-h] table").inner_text()

    assert width[0] <= width[1], width
    # The name and its detail are both shown, not dropped to make room.
    assert LONG_NAME in people_text and LONG_EMAIL in people_text, people_text
    assert LONG_TITLE in items_text and LONG_VAULT in items_text, items_text
    for heading, (text, right, frame_right) in counts.items():
        assert text == "3", (heading, text)
        assert right is not None and right <= frame_right <= 390, (heading, right, frame_right)
