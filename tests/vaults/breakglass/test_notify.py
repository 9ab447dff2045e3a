"""Mails about a break-glass use, delivered to a real SMTP server: contacts told once, the user
and the vault's lead asked once with their own working link, old backfilled uses not mailed."""

from __future__ import annotations

import datetime
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from compliance.models import AuditLogEntry
from tests.smtp_inbox import smtp_server
from tests.vaults.breakglass.conftest import Inbox, use
from vaults.breakglass.models import EmergencyUse
from vaults.breakglass.track import track

pytestmark = pytest.mark.django_db
H = datetime.timedelta(hours=1)


def test_a_new_use_tells_the_contacts_and_asks_the_user_and_lead_once(
        account, emergency_vault, root_login, dana, now, smtp, settings, make_user, team_lead,
        django_capture_on_commit_callbacks):
    settings.SECURITY_CONTACTS = ["soc@example.com", "CISO@example.com"]
    admin = make_user("root_admin")
    admin.is_superuser, admin.email = True, "admin@example.com"
    admin.save()
    team_lead.email = "lead@example.com"
    team_lead.save()
    emergency_vault.owner = team_lead
    emergency_vault.save()
    use(root_login, dana, now - 2 * H)

    with django_capture_on_commit_callbacks(execute=True):
        assert track(account=account) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert track(account=account) == 0  # a second sync: nothing new, nothing sent again

    # Each contact gets a mail of their own, so a contact whose mailbox refuses it is retried alone.
    for contact in ("admin@example.com", "ciso@example.com", "soc@example.com"):
        [alert] = smtp.to(contact)
        assert "AWS Production Root Login" in alert and "Emergency Access" in alert and "Dana Oncall" in alert
    [to_user], [to_lead] = smtp.to("dana@example.com"), smtp.to("lead@example.com")
    assert len(smtp.messages) == 5
    fingerprint = root_login.secret_fields.get().fingerprint
    assert all(fingerprint not in body for _, body in smtp.messages)
    event = EmergencyUse.objects.get()
    assert event.contacts_notified_at and event.reason_requested_at
    assert AuditLogEntry.objects.filter(action="breakglass.contacts_notified", target_id=str(event.pk)).count() == 1

    link = re.search(r"(/break-glass/reason/\S+/)", to_lead.replace("=\n", "")).group(1)
    Client().post(link, {"reason": "Approved by the lead: restore of the billing database"})
    event.refresh_from_db()
    assert (event.reason_by, event.reason_by_label) == ("lead", "lead@example.com")
    assert "/break-glass/reason/" in to_user


def test_a_backfilled_use_older_than_the_link_period_is_recorded_not_mailed(
        account, root_login, dana, now, smtp, settings, django_capture_on_commit_callbacks):
    settings.SECURITY_CONTACTS = ["soc@example.com"]
    use(root_login, dana, now - 30 * 24 * H)

    with django_capture_on_commit_callbacks(execute=True):
        track(account=account)

    assert smtp.messages == []
    assert EmergencyUse.objects.get().contacts_notified_at is None


def test_a_mail_server_that_is_down_loses_nothing_and_the_next_sync_sends(
        account, root_login, dana, now, settings, smtp, django_capture_on_commit_callbacks):
    settings.SECURITY_CONTACTS = ["soc@example.com"]
    port = settings.EMAIL_PORT
    settings.EMAIL_PORT = 9  # nothing listens: the send fails
    use(root_login, dana, now - 2 * H)
    with django_capture_on_commit_callbacks(execute=True):
        track(account=account)
    assert EmergencyUse.objects.get().contacts_notified_at is None

    settings.EMAIL_PORT = port
    with django_capture_on_commit_callbacks(execute=True):
        track(account=account)

    assert [sorted(r) for r, _ in smtp.messages] == [["soc@example.com"], ["dana@example.com"]]
    assert EmergencyUse.objects.get().contacts_notified_at is not None


class RefusesOnce(Inbox):
    """A mail server whose mailboxes for `addresses` refuse the first delivery (a full mailbox, a
    greylisting server): the other recipients are accepted."""

    def __init__(self, *addresses: str) -> None:
        super().__init__()
        self.refuse = set(addresses)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if address in self.refuse:
            self.refuse.discard(address)
            return "450 4.2.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def flaky_smtp(settings: Any) -> Iterator[RefusesOnce]:
    yield from smtp_server(settings, RefusesOnce("ciso@example.com", "lead@example.com"))


def test_a_send_that_fails_for_one_recipient_is_retried_for_that_one_only(
        account, emergency_vault, root_login, dana, now, flaky_smtp, settings, team_lead,
        django_capture_on_commit_callbacks):
    settings.SECURITY_CONTACTS = ["soc@example.com", "ciso@example.com"]
    team_lead.email = "lead@example.com"
    team_lead.save()
    emergency_vault.owner = team_lead
    emergency_vault.save()
    use(root_login, dana, now - 2 * H)

    with django_capture_on_commit_callbacks(execute=True):
        track(account=account)
    event = EmergencyUse.objects.get()
    assert (event.contacts_notified_at, event.reason_requested_at) == (None, None)  # not everyone has it yet

    for _ in range(2):  # the next sync completes the mails; the one after sends nothing
        with django_capture_on_commit_callbacks(execute=True):
            track(account=account)

    received = Counter(address for rcpts, _ in flaky_smtp.messages for address in rcpts)
    assert received == {"soc@example.com": 1, "ciso@example.com": 1, "dana@example.com": 1, "lead@example.com": 1}
    event.refresh_from_db()
    assert event.contacts_notified_at and event.reason_requested_at
    for action in ("breakglass.contacts_notified", "breakglass.reason_requested"):
        assert AuditLogEntry.objects.filter(action=action, target_id=str(event.pk)).count() == 1
    [lead_mail] = flaky_smtp.to("lead@example.com")
    assert "/break-glass/reason/" in lead_mail
