"""The alerts page and its forms fit a 390 px phone: long hostile names, a delivery with a long
error, every table inside its own scroll box; the page itself never scrolls sideways."""

from __future__ import annotations

import pytest
from django.utils import timezone

from compliance.alerts.models import AlertDelivery, AlertState
from openclaw_web.roles import Role
from tests.compliance.alerts.factories import make_channel, make_rule
from tests.e2e.conftest import screenshot, signed_in_page
from tests.vaults.factories import make_account, make_vault

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LONG = "Platform-Engineering-Production-Secrets-EU-west-1-billing-reconciliation-<b>x</b>\u202eevil"


def test_the_alerts_pages_do_not_scroll_sideways_at_390_px(browser, live_server, make_user):
    make_user("carol", Role.COMPLIANCE_OFFICER)
    account = make_account(name="Acme")
    vault = make_vault(account=account, name=LONG)
    channel = make_channel(name=LONG, url="https://hooks.example.com/" + "x" * 200)
    rule = make_rule(kind="health_below", threshold=70, vault=vault, account=account, name=LONG, channels=[channel])
    now = timezone.now()
    state = AlertState.objects.create(rule=rule, account=account, key="k", kind="health_below", title=f"vault “{LONG}” 40/100",
                                      url="/", severity="high", raised_at=now, last_seen_at=now)  # fmt: skip
    AlertDelivery.objects.create(state=state, channel=channel, created_at=now, status="failed", attempts=5,
                                 last_error="ConnectError: " + "y" * 300, payload_digest="a" * 64)  # fmt: skip
    widths = {}
    with signed_in_page(browser, live_server.url, "carol") as page:
        for path in ("/alerts/", "/alerts/rules/new/", f"/alerts/channels/{channel.pk}/"):
            page.goto(live_server.url + path)
            widths[path] = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        page.goto(live_server.url + "/alerts/")
        screenshot(page, "alerts-390")
        assert page.locator("text=Send a test").count() == 1

    for path, (scroll, inner) in widths.items():
        assert scroll <= inner, (path, scroll, inner)
