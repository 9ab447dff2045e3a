"""The reports page's preview choice shows each report's whole name, at 1366 px and on a 390 px
phone: "SOC 2 access review" was cut to "SOC 2 access revie" by a fixed width."""

from __future__ import annotations

import pytest

from openclaw_web.roles import Role
from tests.e2e.conftest import screenshot, signed_in_page

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Each option's text measured in the select's own font, against the room the select gives it
# (its inner width less its padding and 16 px for the arrow).
FITS = """() => {
    const select = document.querySelector('.report-preview-form select[name=kind]');
    const style = getComputedStyle(select);
    const context = document.createElement('canvas').getContext('2d');
    context.font = style.font;
    const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 16;
    const widest = Math.max(...[...select.options].map(o => context.measureText(o.text).width));
    return {room, widest, page: document.documentElement.scrollWidth, viewport: window.innerWidth};
}"""


@pytest.mark.parametrize("width", [1366, 390])
def test_the_preview_choice_shows_every_report_name_whole(browser, live_server, make_user, width) -> None:
    make_user("carol", Role.COMPLIANCE_OFFICER)
    with signed_in_page(browser, live_server.url, "carol", width=width) as page:
        page.goto(f"{live_server.url}/reports/")
        fits = page.evaluate(FITS)
        screenshot(page, f"reports-{width}")

    assert fits["widest"] <= fits["room"], fits
    assert fits["page"] <= fits["viewport"], fits
