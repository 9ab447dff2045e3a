"""The break-glass list, an event and the signed reason link fit a 390 px phone (no sideways
scrolling of the page) with long names and reasons; the link's form stores the reason in Chromium."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from openclaw_web.roles import Role
from tests.e2e.conftest import screenshot, sign_in
from tests.vaults.factories import make_account, make_item, make_op_user, make_secret, make_usage, make_vault
from vaults.breakglass import reasons
from vaults.breakglass.models import EmergencyUse
from vaults.breakglass.record import record_uses
from vaults.models import Vault

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LONG = "Kubernetes-production-cluster-eu-west-1-break-glass-root-credential-for-the-billing-reconciliation-job"
WIDTH = "() => ({page: document.documentElement.scrollWidth, viewport: window.innerWidth})"


def test_break_glass_pages_fit_a_phone_and_the_link_stores_a_reason(browser, live_server, make_user) -> None:
    make_user("ada", Role.ADMIN)
    account = make_account(name="Acme")
    vault = make_vault(account=account, name=f"Emergency {LONG}", classification=Vault.Classification.EMERGENCY)
    item = make_item(vault=vault, title=LONG)
    make_secret(item=item)
    person = make_op_user(account=account, name=f"Oncall {LONG}", email=f"{LONG.lower()}@example.com")
    make_usage(account=account, user=person, item=item, when=timezone.now() - datetime.timedelta(hours=30))
    [event] = record_uses(account=account)
    link = reasons.link_for(event, who="user", email=person.email)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    widths = {}
    try:
        page.goto(f"{live_server.url}{link}")
        page.fill("textarea[name=reason]", f"INC-77 {LONG} " * 3)
        page.click("button[type=submit]")
        page.get_by_text("the reason was recorded").wait_for()
        widths["link"] = page.evaluate(WIDTH)
        screenshot(page, "breakglass-link-390")
        sign_in(page, live_server.url, "ada", "correct horse battery staple 9")
        page.wait_for_url(f"{live_server.url}/")
        for name, url in (("list", reverse("breakglass:list")), ("detail", reverse("breakglass:detail", args=[event.pk]))):
            page.goto(f"{live_server.url}{url}")
            widths[name] = page.evaluate(WIDTH)
            screenshot(page, f"breakglass-{name}-390")
    finally:
        context.close()

    assert EmergencyUse.objects.get().reason.startswith("INC-77")
    for name, width in widths.items():
        assert width["page"] <= width["viewport"], (name, width)
