"""Refused posts to the signed reason link are audit-logged, boundedly, without what was posted:
a second reason, a tampered or expired link, and a flood from one address (one entry per window)."""

from __future__ import annotations

import datetime
import json

import pytest
from django.test import Client
from django.urls import reverse

from compliance.models import AuditLogEntry
from tests.vaults.breakglass.conftest import use
from vaults.breakglass import link_refusals, reasons, record
from vaults.breakglass.models import EmergencyUse

pytestmark = pytest.mark.django_db
H = datetime.timedelta(hours=1)
ADDRESS = "203.0.113.41"
POSTED = '=HYPERLINK("http://evil.example") <script>x</script> ' + "A" * 10_000


@pytest.fixture
def event(account, root_login, dana, now) -> EmergencyUse:
    use(root_login, dana, now - 30 * H)
    [created] = record.record_uses(account=account)
    return created


def _link(event: EmergencyUse) -> str:
    return reverse("breakglass:reason_link", args=[reasons.make_token(event, who="user", email="dana@example.com")])


def _refusals() -> list[AuditLogEntry]:
    return list(AuditLogEntry.objects.filter(action="breakglass.link_refused").order_by("seq"))


def test_a_second_reason_through_the_link_is_refused_and_logged_without_its_text(event) -> None:
    client = Client(REMOTE_ADDR=ADDRESS)
    url = _link(event)

    client.post(url, {"reason": "INC-1042: database locked"})
    client.get(url)  # decoy: reading the page is no refusal
    second = client.post(url, {"reason": POSTED[:2000]})

    assert second.status_code == 409
    [entry] = _refusals()
    assert entry.target_id == str(event.pk) and entry.ip_address == ADDRESS
    assert entry.actor is None and entry.actor_label == "dana@example.com (signed link)"
    assert entry.details == {"why": "a reason was already given", "by": "user", "token_length": len(url.split("/")[-2]),
                             "reason_length": 2000}  # fmt: skip
    assert "HYPERLINK" not in json.dumps(entry.details) and "INC-1042" not in json.dumps(entry.details)


def test_an_accepted_reason_writes_no_refusal(event) -> None:
    Client(REMOTE_ADDR=ADDRESS).post(_link(event), {"reason": "INC-1042: database locked"})  # decoy

    assert _refusals() == []
    assert AuditLogEntry.objects.filter(action="breakglass.reason_given").count() == 1


def test_a_tampered_link_post_is_logged_as_anonymous_without_the_token_or_the_text(event) -> None:
    token = reasons.make_token(event, who="user", email="dana@example.com")[:-3] + "AAA"

    Client(REMOTE_ADDR=ADDRESS).post(reverse("breakglass:reason_link", args=[token]), {"reason": POSTED})
    Client(REMOTE_ADDR=ADDRESS).get(reverse("breakglass:reason_link", args=[token]))  # decoy: a GET is not logged

    [entry] = _refusals()
    assert entry.actor_label == link_refusals.ANONYMOUS and entry.ip_address == ADDRESS
    assert entry.details["why"].startswith("This link is not valid")
    assert entry.details["token_length"] == len(token) and entry.details["reason_length"] == len(POSTED)
    text = json.dumps(entry.details) + entry.target_label + entry.actor_label
    assert token not in text and "HYPERLINK" not in text and "dana@example.com" not in text


def test_a_flood_from_one_address_leaves_the_budget_plus_one_entry_and_spares_other_addresses(event) -> None:
    flooder = Client(REMOTE_ADDR=ADDRESS)
    url = reverse("breakglass:reason_link", args=["not-a-token"])

    codes = [flooder.post(url, {"reason": "x"}).status_code for _ in range(link_refusals.LINK_POSTS_PER_WINDOW + 15)]
    other = Client(REMOTE_ADDR="198.51.100.9").post(url, {"reason": "x"})  # decoy: another address

    assert codes.count(429) == 15 and other.status_code == 400
    assert len([e for e in _refusals() if e.ip_address == ADDRESS]) == link_refusals.LINK_POSTS_PER_WINDOW
    [throttled] = AuditLogEntry.objects.filter(action="breakglass.link_throttled")
    assert throttled.ip_address == ADDRESS and throttled.actor_label == link_refusals.ANONYMOUS
    assert [e.ip_address for e in _refusals()][-1] == "198.51.100.9"
