"""The ticket destinations pages and a finding's ticket panel fit a 390 px phone: long hostile
names, a long ticket key, a long URL; the page itself never scrolls sideways."""

from __future__ import annotations

import pytest

from compliance.tickets.models import TicketDestination, TicketLink
from openclaw_web.roles import Role
from tests.e2e.conftest import signed_in_page
from tests.vaults.factories import make_account, make_finding, make_item, make_vault

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LONG = "Platform-Engineering-Production-Secrets-EU-west-1-billing-reconciliation-<b>x</b>\u202eevil"


def test_the_tickets_pages_do_not_scroll_sideways_at_390_px(browser, live_server, make_user):
    make_user("carol", Role.COMPLIANCE_OFFICER)
    account = make_account(name="Acme")
    item = make_item(vault=make_vault(account=account, name=LONG), title=LONG)
    finding = make_finding(account=account, title=LONG, item=item, vault=item.vault)
    linked = TicketDestination.objects.create(name=LONG[:100], kind="jira", url="https://acme.atlassian.net/" + "x" * 200,
                                              project="SEC", auth_env="TICKET_AUTH_" + "J" * 60)  # fmt: skip
    TicketDestination.objects.create(name="Linear " + LONG[:90], kind="linear", url="https://api.linear.app/graphql", project="t")
    TicketLink.objects.create(subject_kind="finding", subject_id=finding.pk, destination=linked, external_key="X" * 100,
                              url="https://acme.atlassian.net/browse/" + "X" * 100, response_status=201)  # fmt: skip
    widths = {}
    with signed_in_page(browser, live_server.url, "carol") as page:
        for path in ("/tickets/", f"/tickets/{linked.pk}/", f"/findings/{finding.pk}/", "/findings/?status=all"):
            page.goto(live_server.url + path)
            widths[path] = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        page.goto(f"{live_server.url}/findings/{finding.pk}/")
        assert page.locator("[data-create-ticket]").count() == 1

    for path, (scroll, inner) in widths.items():
        assert scroll <= inner, (path, scroll, inner)
