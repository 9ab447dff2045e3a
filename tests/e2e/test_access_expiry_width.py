"""The person page's end-date card and the contractor report fit a 390 px phone (no sideways
scrolling of the page) with long names, many vaults and anomalies; the form sets an end date."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from openclaw_web.roles import Role
from tests.e2e.conftest import screenshot, signed_in_page
from tests.vaults.factories import grant, make_account, make_item, make_op_user, make_vault
from vaults.access_expiry.models import AccessEndDate
from vaults.models import ItemUsage, Vault

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LONG = "Kubernetes-production-cluster-eu-west-1-service-account-token-for-the-billing-reconciliation-job"
WIDTH = "() => ({page: document.documentElement.scrollWidth, viewport: window.innerWidth})"


def test_end_dates_and_the_contractor_report_fit_a_phone(browser, live_server, make_user) -> None:
    make_user("ada", Role.ADMIN)
    account = make_account(name="Acme")
    vaults = [make_vault(account=account, name=f"{LONG} {n}", classification=Vault.Classification.PRODUCTION)
              for n in range(12)]  # fmt: skip
    person = make_op_user(account=account, name=f"Contractor {LONG}", email=f"{LONG.lower()}@vendor.example")
    for vault in vaults:
        grant(vault=vault, user=person)
    item = make_item(vault=vaults[0], title=LONG)
    now = timezone.now()
    for n in range(30):
        ItemUsage.objects.create(account=account, uuid=f"u{n}", timestamp=now - datetime.timedelta(hours=30, minutes=n),
                                 user_op_id=person.op_id, item_op_id=item.op_id, vault_op_id=vaults[0].op_id,
                                 action="reveal", client_ip=f"2001:db8:{n}::{n}", country="Somewhere Far Away")  # fmt: skip
    with signed_in_page(browser, live_server.url, "ada") as page:
        page.goto(f"{live_server.url}/vaults/people/{person.pk}/")
        page.fill("input[name=ends_on]", (timezone.localdate() - datetime.timedelta(days=1)).isoformat())
        page.fill("input[name=reason]", LONG)
        page.click("#end-date button[type=submit]")
        page.wait_for_url(f"**/vaults/people/{person.pk}/#end-dates")
        person_width = page.evaluate(WIDTH)
        screenshot(page, "person-end-dates-390")
        page.goto(f"{live_server.url}/vaults/people/contractors/")
        page.locator(f'[data-contractor="{person.pk}"]').wait_for()
        report_width = page.evaluate(WIDTH)
        anomalies = page.locator(f'[data-contractor="{person.pk}"] .anomaly-list li').count()
        screenshot(page, "contractor-report-390")

    assert AccessEndDate.objects.get(op_user=person).reason == LONG
    assert person_width["page"] <= person_width["viewport"], person_width
    assert report_width["page"] <= report_width["viewport"], report_width
    assert anomalies >= 3  # after the end date, production use, a burst
