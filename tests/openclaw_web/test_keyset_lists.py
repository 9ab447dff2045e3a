"""Keyset pages of the long lists (openclaw_web/keyset.py): the audit log, a vault's items, the
people list and the alert deliveries. Walking Next to the end and Previous back shows every row of
the filtered list exactly once, in the list's order, never a decoy; no query uses OFFSET or counts
without a cap; a forged cursor is a 400; titles holding the separators a value cursor would split
on page like any other."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from compliance import audit
from compliance.alerts.models import AlertDelivery
from compliance.models import AuditLogEntry
from openclaw_web import keyset
from tests.compliance.alerts.factories import make_channel
from tests.vaults.factories import make_account, make_item, make_op_user, make_vault
from vaults.models import Item, OpUser

pytestmark = pytest.mark.django_db

NEXT = re.compile(r'rel="next" href="\?([^"]+)"')
PREVIOUS = re.compile(r'rel="prev" href="\?([^"]+)"')
# Ties on the sort key, and the characters a cursor of joined values ("a|b") or a query string would split on.
TITLES = ["Same title", "Same title", "a|b", "a|b|c", 'quote " and \' both', "amp & semi;colon", "\u202egnp.exe",
          "Zed", "zed", "Ünïcode", "=HYPERLINK()", "100%", "a+b c", "Same title"]


@dataclass
class Listing:
    url: str
    params: dict[str, str]
    expected: list[int]  # ids in the list's order, decoys excluded
    row_id: re.Pattern[str]


def _audit_log(decoys: bool = True) -> Listing:
    for n, title in enumerate(TITLES):
        audit.record("cleanup.approved", actor_label=f"april {n}", target_label=title)
        if decoys:
            audit.record("finding.accepted", actor_label="tom", target_label=title)  # another action: filtered out
    expected = list(AuditLogEntry.objects.filter(action="cleanup.approved").order_by("-seq").values_list("seq", flat=True))
    return Listing(reverse("audit:list"), {"action": "cleanup.approved"}, expected, re.compile(r'<td class="num">(\d+)</td>'))


def _vault_items(decoys: bool = True) -> Listing:
    account = make_account(name="Acme")
    vault, other = make_vault(account=account, name="Payments"), make_vault(account=account, name="Other")
    for title in TITLES:
        make_item(vault=vault, title=title)
        if decoys:
            make_item(vault=other, title=title)  # another vault's item
            make_item(vault=vault, title=title, archived=True)  # archived: not in the list
    expected = list(Item.objects.filter(vault=vault, archived=False).order_by("title", "pk").values_list("pk", flat=True))
    return Listing(reverse("vaults:detail", args=[vault.pk]), {}, expected, re.compile(r'items/(\d+)/"'))


def _people(decoys: bool = True) -> Listing:
    account = make_account(name="Acme")
    for n, title in enumerate(TITLES):
        make_op_user(account=account, name=title, email=f"p{n % 3}@example.com")
        if decoys:
            make_op_user(account=account, name=title, state="SUSPENDED")  # filtered out by state
    expected = list(OpUser.objects.filter(state="ACTIVE").order_by("name", "email", "pk").values_list("pk", flat=True))
    return Listing(reverse("vaults:people"), {"state": "ACTIVE"}, expected, re.compile(r'/people/(\d+)/"'))


def _alert_deliveries(decoys: bool = True) -> Listing:
    channel = make_channel()
    moment = timezone.now()
    for n in range(len(TITLES)):
        # Pairs share a creation time: the id decides between them.
        AlertDelivery.objects.create(channel=channel, is_test=True, created_at=moment - datetime.timedelta(minutes=n // 2))
    expected = list(AlertDelivery.objects.order_by("-created_at", "-pk").values_list("pk", flat=True))
    return Listing(reverse("alerts:index"), {}, expected, re.compile(r'id="delivery-(\d+)"'))


LISTINGS: dict[str, Callable[..., Listing]] = {
    "audit log": _audit_log, "vault items": _vault_items, "people": _people, "alert deliveries": _alert_deliveries,
}  # fmt: skip


def _walk(client: Client, listing: Listing, link: re.Pattern[str], query: str) -> tuple[list[list[int]], str]:
    """The row ids of each page from `query` on, following `link` (Next or Previous) to its end,
    and the query of the page where it ended."""
    pages = []
    while True:
        response = client.get(f"{listing.url}?{query}")
        assert response.status_code == 200
        html = response.content.decode()
        pages.append([int(n) for n in listing.row_id.findall(html)])
        found = link.search(html)
        if found is None:
            return pages, query
        query = unescape(found.group(1))


def _next_query(html: str) -> str:
    found = NEXT.search(html)
    assert found is not None, "no Next link"
    return unescape(found.group(1))


@pytest.fixture
def staff_client(client_for, admin_user) -> Client:
    return client_for(admin_user)


@pytest.mark.parametrize("name", list(LISTINGS))
def test_next_to_the_end_and_previous_back_show_every_row_once_in_order(name, staff_client, monkeypatch) -> None:
    monkeypatch.setattr(keyset, "PAGE_SIZE", 4)
    listing = LISTINGS[name]()
    assert len(listing.expected) == len(TITLES)

    forward, last = _walk(staff_client, listing, NEXT, urlencode(listing.params))

    assert [n for page in forward for n in page] == listing.expected
    assert [len(page) for page in forward] == [4, 4, 4, 2]
    backward, _ = _walk(staff_client, listing, PREVIOUS, last)
    assert backward == list(reversed(forward))
    assert "before=" in last or "after=" in last  # the walk really followed cursors


@pytest.mark.parametrize("name", list(LISTINGS))
def test_no_page_reads_with_offset_or_counts_without_a_cap(name, staff_client, monkeypatch) -> None:
    monkeypatch.setattr(keyset, "PAGE_SIZE", 4)
    listing = LISTINGS[name]()
    second_query = _next_query(staff_client.get(listing.url, listing.params).content.decode())

    with CaptureQueriesContext(connection) as queries:  # the table alone, as its links fetch it
        assert staff_client.get(f"{listing.url}?{second_query}", headers={"HX-Request": "true"}).status_code == 200

    sql = [q["sql"].upper() for q in queries.captured_queries]
    assert not [s for s in sql if " OFFSET " in s]
    counts = [s for s in sql if "COUNT(" in s and listing_table(name) in s]
    assert counts and all(" LIMIT " in s for s in counts), counts


def listing_table(name: str) -> str:
    return {"audit log": "COMPLIANCE_AUDITLOGENTRY", "vault items": "VAULTS_ITEM", "people": "VAULTS_OPUSER",
            "alert deliveries": "ALERTS_ALERTDELIVERY"}[name]  # fmt: skip


@pytest.mark.parametrize("name", list(LISTINGS))
def test_the_total_is_exact_under_the_cap_and_says_more_than_the_cap_above_it(name, staff_client, monkeypatch) -> None:
    monkeypatch.setattr(keyset, "PAGE_SIZE", 4)
    listing = LISTINGS[name]()
    second = _next_query(staff_client.get(listing.url, listing.params).content.decode())

    assert f"4 shown of {len(TITLES)}<" in staff_client.get(f"{listing.url}?{second}").content.decode()
    monkeypatch.setattr(keyset, "COUNT_CAP", 10)
    assert "4 shown of more than 10<" in staff_client.get(f"{listing.url}?{second}").content.decode()


@pytest.mark.parametrize("name", list(LISTINGS))
@pytest.mark.parametrize("cursor", ["after=abc", "after=0", "before=-3", f"after={2**63}", "after=1.5"])
def test_a_forged_cursor_is_refused_with_400(name, cursor, staff_client) -> None:
    listing = LISTINGS[name](decoys=False)
    assert staff_client.get(f"{listing.url}?{cursor}").status_code == 400


@pytest.mark.parametrize("name", list(LISTINGS))
def test_a_cursor_naming_a_row_that_is_gone_opens_the_first_page(name, staff_client, monkeypatch) -> None:
    monkeypatch.setattr(keyset, "PAGE_SIZE", 4)
    listing = LISTINGS[name](decoys=False)
    html = staff_client.get(listing.url, {**listing.params, "after": str(2**62)}).content.decode()
    assert [int(n) for n in listing.row_id.findall(html)] == listing.expected[:4]
    assert "rel=\"prev\"" not in html


def test_a_vault_items_cursor_from_another_vault_shows_only_this_vaults_items(staff_client, monkeypatch) -> None:
    monkeypatch.setattr(keyset, "PAGE_SIZE", 4)
    listing = _vault_items()
    foreign = Item.objects.exclude(pk__in=listing.expected).filter(archived=False).order_by("title").first()
    assert foreign is not None

    html = staff_client.get(listing.url, {"after": str(foreign.pk)}).content.decode()

    shown = [int(n) for n in listing.row_id.findall(html)]
    assert shown and set(shown) <= set(listing.expected)


def test_the_audit_exports_keep_the_filter_and_drop_the_cursor(client_for, auditor) -> None:
    _audit_log()
    client = client_for(auditor)
    page = client.get(reverse("audit:list"), {"action": "cleanup.approved", "after": "5"}).content.decode()
    export = re.search(r'href="(/audit/export\.csv\?[^"]*)"', page)
    assert export is not None and "action=cleanup.approved" in export.group(1) and "after=" not in export.group(1)
    body = client.get(unescape(export.group(1))).content.decode()
    assert body.count("cleanup.approved") == len(TITLES) and "finding.accepted" not in body
