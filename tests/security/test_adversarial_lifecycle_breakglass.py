"""Adversarial review of issue #16: break-glass uses (vaults/breakglass/).

What an attacker who just used an emergency credential wants: nobody told, the reason never
asked, the rotation counted as done. What an auditor checks: the anonymous reason link accepts
nothing it should not. Real PostgreSQL; mails through Django's locmem backend (the same
header checks as SMTP); no mocks.
"""

from __future__ import annotations

import datetime
import json

import pytest
from django.core import mail, signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.vaults import factories as f
from vaults.breakglass import notify, reasons, record
from vaults.breakglass.models import EmergencyUse
from vaults.findings import emergency
from vaults.findings.models import Finding
from vaults.models import Vault

pytestmark = pytest.mark.django_db
H = datetime.timedelta(hours=1)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    from django.core.cache import cache

    cache.clear()


def _emergency(title: str = "AWS Production Root Login"):
    account = f.make_account()
    vault = f.make_vault(account=account, name="Emergency Access", classification=Vault.Classification.EMERGENCY)
    item = f.make_item(vault=vault, title=title, category="LOGIN")
    person = f.make_op_user(account=account, name="Dana Oncall", email="dana@example.com")
    return account, vault, item, person


def test_a_newline_in_the_item_title_does_not_silence_the_security_contacts(settings) -> None:
    """Whoever may edit an item of the emergency vault renames it "Root\\nX" before using it.
    The subject line then carries a newline, Django refuses the header (BadHeaderError), notify
    swallows it as "mail server down" and retries on every sync, forever: the security contacts
    are never told and the user never gets the reason link. access_expiry/notices.py already
    has `one_line` for exactly this; break-glass mails do not use it."""
    settings.SECURITY_CONTACTS = ["soc@example.com"]
    now = timezone.now()
    account, _, item, person = _emergency("AWS Root Login\nBcc: attacker@evil.example")
    f.make_secret(item=item, field_id="password", changed_at=now - 30 * 24 * H)
    f.make_usage(account=account, user=person, item=item, when=now - H)
    # Decoy: the same in a second vault with a plain title is announced (the set-up works).
    _, _, plain, other = _emergency("AWS Billing Root Login")
    f.make_usage(account=plain.vault.account, user=other, item=plain, when=now - H)
    created = record.record_uses(account=account) + record.record_uses(account=plain.vault.account)
    assert len(created) == 2

    notify.notify(created, now=now)

    subjects = [m.subject for m in mail.outbox if "soc@example.com" in m.to]
    assert any("AWS Billing Root Login" in s for s in subjects)
    assert any("AWS Root Login" in s for s in subjects), (
        "the break-glass use with a newline in its title was never announced"
    )
    assert not any("attacker@evil.example" in ",".join(m.bcc + m.to + m.cc) for m in mail.outbox)


def test_a_rotation_between_two_reads_of_one_event_is_not_a_rotation() -> None:
    """One event spans uses at 10:00 and 10:40 (SESSION_GAP groups them). The secret changes at
    10:20: the person read the NEW secret at 10:40. The module says "a change before the use
    does not count: the person saw the new secret", yet refresh_rotations compares with the
    first use only, so the event reads "rotated in time" and emergency_rotation_late never opens."""
    account, _, item, person = _emergency()
    start = timezone.now() - 30 * H
    f.make_secret(item=item, field_id="password", changed_at=start + datetime.timedelta(minutes=20))
    f.make_usage(account=account, user=person, item=item, when=start)
    f.make_usage(account=account, user=person, item=item, when=start + datetime.timedelta(minutes=40))
    [event] = record.record_uses(account=account)
    assert event.use_count == 2  # one event, two reads

    record.refresh_rotations(account=account)

    event.refresh_from_db()
    assert event.rotated_at is None, "a secret the person read after the change is counted as rotated"


def test_a_rotation_after_the_last_read_counts(settings) -> None:
    """Decoy of the previous test: the change after every read of the event is a rotation."""
    account, _, item, person = _emergency()
    start = timezone.now() - 30 * H
    f.make_secret(item=item, field_id="password", changed_at=start + 2 * H)
    f.make_usage(account=account, user=person, item=item, when=start)
    f.make_usage(account=account, user=person, item=item, when=start + datetime.timedelta(minutes=40))
    [event] = record.record_uses(account=account)

    record.refresh_rotations(account=account)

    event.refresh_from_db()
    assert event.rotated_at is not None
    kinds = {c.kind for c in emergency.find(account=account, now=timezone.now())}
    assert Finding.Kind.EMERGENCY_ROTATION_LATE not in kinds


def _event() -> EmergencyUse:
    account, _, item, person = _emergency()
    f.make_secret(item=item, field_id="password")
    f.make_usage(account=account, user=person, item=item, when=timezone.now() - 2 * H)
    [event] = record.record_uses(account=account)
    return event


def test_the_anonymous_reason_link_enforces_csrf() -> None:
    """Property that holds: the page has no session, but a cross-site form cannot post a reason
    with the victim's link (CSRF middleware applies; the token comes from the page)."""
    event = _event()
    url = reverse("breakglass:reason_link", args=[reasons.make_token(event, who="user", email="dana@example.com")])
    client = Client(enforce_csrf_checks=True)

    forged = client.post(url, {"reason": "forged"})
    event.refresh_from_db()
    assert forged.status_code == 403 and event.reason_at is None

    page = client.get(url)
    token = page.cookies["csrftoken"].value
    real = client.post(url, {"reason": "INC-7", "csrfmiddlewaretoken": token})
    event.refresh_from_db()
    assert real.status_code == 302 and event.reason == "INC-7"


def test_a_link_whose_payload_is_swapped_to_another_event_is_refused() -> None:
    """Property that holds: a token is bound to its event; re-signing is impossible without the
    key, and a link made for event A cannot record the reason of event B."""
    first, second = _event(), _event()
    token = reasons.make_token(first, who="user", email="dana@example.com")
    # The same signature and timestamp with the payload rewritten to name the second event.
    payload = json.dumps({"e": second.pk, "w": "user", "m": "dana@example.com"}, separators=(",", ":"))
    forged = signing.b64_encode(payload.encode()).decode() + token[token.index(":") :]
    assert forged != token
    response = Client().post(reverse("breakglass:reason_link", args=[forged]), {"reason": "x"})
    second.refresh_from_db()
    first.refresh_from_db()
    assert response.status_code == 400 and second.reason_at is None and first.reason_at is None
