"""The header's search box in Chromium (issue #15): "/" and Ctrl+K put the cursor in it, but a "/"
typed into another field stays in that field; a search shows grouped hits; at 390 px the box
takes its own full-width row instead of pushing the page sideways."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.e2e.conftest import screenshot, sign_in
from tests.vaults.factories import make_account, make_item, make_vault

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple 9"
BOX = "#header-search-q"


def _focused_id(page: object) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")  # type: ignore[attr-defined]


def test_slash_and_ctrl_k_focus_the_search_box_and_a_search_shows_grouped_hits(page, live_server, viewer):
    vault = make_vault(account=make_account(name="Acme"), name="Payments")
    make_item(vault=vault, title="Stripe Production Access Key")
    sign_in(page, live_server.url, viewer.username, PASSWORD)
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}{reverse('vaults:list')}")
    page.locator("body").click()
    page.keyboard.press("/")
    assert _focused_id(page) == "header-search-q"
    assert page.input_value(BOX) == ""  # the "/" focused the box and was not typed into it

    page.locator("input[name=q]").nth(1).click()  # the vault list's own filter field
    page.keyboard.type("a/b")
    assert page.input_value("input[name=q] >> nth=1") == "a/b"  # decoy: "/" while typing is a character
    assert _focused_id(page) != "header-search-q"

    page.keyboard.press("Control+k")
    assert _focused_id(page) == "header-search-q"
    page.keyboard.type("strpe prod")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/?q=strpe+prod")
    assert page.locator("#search-items").is_visible()
    assert "Stripe Production Access Key" in page.locator(".search-hits").first.inner_text()


def test_at_390_px_the_search_box_fits_on_its_own_row(page, live_server, viewer):
    sign_in(page, live_server.url, viewer.username, PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}{reverse('vaults:list')}")
    box = page.locator(BOX).bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert box["width"] > 250  # a full row, not a squeezed sliver
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    screenshot(page, "search_box_390px")
