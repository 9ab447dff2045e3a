"""The findings table fits a 1366 px laptop screen: no sideways scrolling, of the page or the table."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from openclaw_web.roles import Role
from tests.e2e.conftest import screenshot, signed_in_page
from tests.vaults.factories import make_account, make_finding, make_item, make_vault
from vaults.findings.models import Finding
from vaults.models import Vault

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LONG_WORDS = "Kubernetes-production-cluster-eu-west-1-service-account-token-for-the-billing-reconciliation-job"


@pytest.fixture
def demo_sized_findings():
    """A page of findings like the demo's, with the widest content it holds: long titles with and
    without spaces, long vault names, explanations, accepted risks with a date."""
    account = make_account(name="Acme")
    vaults = [make_vault(account=account, name=name, classification=Vault.Classification.PRODUCTION)
              for name in ("Platform Engineering — Production Secrets (EU)", "Finance", "Customer Support Shared Logins")]
    kinds = [Finding.Kind.WEAK, Finding.Kind.DUPLICATE, Finding.Kind.UNCLEAR_NAME, Finding.Kind.ORPHANED]
    for n in range(50):
        vault = vaults[n % len(vaults)]
        title = LONG_WORDS if n % 5 == 0 else f"Weak password on the shared {vault.name} administrator login number {n} for the legacy ERP system"
        item = make_item(vault=vault, title=title)
        finding = make_finding(account=account, kind=kinds[n % len(kinds)], vault=vault, item=item, title=title,
                               explanation=f"{title} has a password that zxcvbn scores 0 of 4; it appears in " * 3)
        if n % 7 == 0:
            Finding.objects.filter(pk=finding.pk).update(status=Finding.Status.ACCEPTED,
                                                         accepted_until=timezone.localdate() + datetime.timedelta(days=90))


def test_the_findings_page_does_not_scroll_sideways_at_1366_px(browser, live_server, make_user, demo_sized_findings):
    make_user("tom", Role.TEAM_LEAD)  # a finding manager: the table has its selection column too
    with signed_in_page(browser, live_server.url, "tom", width=1366) as page:
        page.goto(f"{live_server.url}/findings/")
        page.locator("#findings-table tbody tr").first.wait_for()

        widths = page.evaluate("""() => {
            const wrap = document.querySelector('#findings-table .table-wrap');
            return {page: document.documentElement.scrollWidth, viewport: window.innerWidth,
                    table: wrap.scrollWidth, wrap: wrap.clientWidth,
                    rows: document.querySelectorAll('#findings-table tbody tr').length};
        }""")
        screenshot(page, "findings-1366")

    assert widths["rows"] >= 25
    assert widths["page"] <= widths["viewport"], widths
    assert widths["table"] <= widths["wrap"], widths
