"""E-mails about a break-glass use: the security contacts are told, the user (and the vault's
owner, their lead) are asked for the reason through a signed link.

1. `notify_after_commit(events)` is called by whoever created the events (the sync's hook, the
   backfill); the mails go out after the transaction commits, so nobody hears of a rolled-back
   event.
2. Each address gets each mail of an event once (`EmergencyMailSent`, unique per event, mail and
   address, written in the same transaction as the mail is handed to the mail server): when one
   recipient's send fails, the next sync mails that one again and nobody else. Once every
   recipient has it, a conditional UPDATE sets `contacts_notified_at` / `reason_requested_at`
   (and the audit entry is written) once.
3. Events older than the link's lifetime (a backfill of last year's uses) are recorded, not
   mailed: a link would be dead on arrival and the contacts would get news of old events.
Mails carry metadata only: item title, vault name, the person, the time and a link; never a
secret value, notes text or fingerprint.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from compliance import audit
from openclaw_web.roles import active_administrators
from openclaw_web.site_url import absolute_url
from openclaw_web.text import one_line
from vaults.breakglass import reasons
from vaults.breakglass.models import EmergencyMailSent, EmergencyUse

logger = logging.getLogger(__name__)
FOOTER = "\n\nThis message contains no vault contents and no secret values."


def event_url(event: EmergencyUse) -> str:
    return absolute_url(reverse("breakglass:detail", args=[event.pk]))


def security_contacts() -> list[str]:
    """SECURITY_CONTACTS plus every active OpenClaw admin with an address, each once."""
    admins = active_administrators()
    addresses = [*getattr(settings, "SECURITY_CONTACTS", []),
                 *admins.exclude(email="").values_list("email", flat=True)]
    return list(dict.fromkeys(a.strip().lower() for a in addresses if a and a.strip()))


def _when(event: EmergencyUse) -> str:
    return f"{event.first_used_at:%Y-%m-%d %H:%M} UTC"


def _facts(event: EmergencyUse) -> str:
    uses = f"{event.use_count} use{'s' if event.use_count != 1 else ''}"
    return (f"Item: {event.item_title or event.item_op_id}\nVault: {event.vault_name or event.vault_op_id}\n"
            f"Used by: {event.who} {('<' + event.user_email + '>') if event.user_email else ''}\n"
            f"When: {_when(event)} ({uses}, last at {event.last_used_at:%H:%M} UTC)\n"
            f"Rotation due by: {event.rotation_due_at:%Y-%m-%d %H:%M} UTC")


@dataclass(frozen=True)
class Letter:
    address: str
    subject: str
    body: str


def _sent_now(event: EmergencyUse, mail: str, letter: Letter) -> bool | None:
    """True: sent now; False: sent by an earlier run; None: the send failed (the next sync retries)."""
    try:
        with transaction.atomic():
            EmergencyMailSent.objects.create(event=event, mail=mail, recipient=letter.address.lower()[:500],
                                             sent_at=timezone.now())  # fmt: skip
            send_mail(one_line(letter.subject, 200), letter.body, settings.DEFAULT_FROM_EMAIL, [letter.address],
                      fail_silently=False)  # fmt: skip
    except IntegrityError:
        return False
    except Exception:  # a mail server down must not stop the sync; the next run retries
        logger.warning("break-glass %s mail for event %s not sent; the next sync retries", mail, event.pk, exc_info=True)
        return None
    return True


def _deliver(event: EmergencyUse, *, mail: str, letters: list[Letter], field: str, action: str) -> bool:
    """Step 2 of the module docstring; True when this call completed the mail for every recipient."""
    outcomes = [_sent_now(event, mail, letter) for letter in letters]
    if None in outcomes:
        return False
    claimed = EmergencyUse.objects.filter(pk=event.pk, **{f"{field}__isnull": True}).update(**{field: timezone.now()})
    if not claimed:
        return False
    audit.record(action, actor_label="notifications", target=event,
                 details={"recipients": len(letters), "sent_by_this_run": outcomes.count(True)})  # fmt: skip
    return True


def announce(event: EmergencyUse) -> bool:
    """Tell each security contact (once)."""
    subject = f"[OpenClaw] Break-glass use: {event.item_title or event.item_op_id}"
    body = (f"An emergency (break-glass) credential was used.\n\n{_facts(event)}\n\n"
            f"The user has been asked for the reason. Follow up: {event_url(event)}" + FOOTER)
    letters = [Letter(address, subject, body) for address in security_contacts()]
    return _deliver(event, mail=EmergencyMailSent.Mail.CONTACTS, letters=letters, field="contacts_notified_at",
                    action="breakglass.contacts_notified")  # fmt: skip


def reason_recipients(event: EmergencyUse) -> list[tuple[str, str]]:
    """(who, address): the user, and the vault's owner (their lead) when one is set."""
    people: list[tuple[str, str]] = []
    if event.user_email:
        people.append((reasons.ReasonBy.USER, event.user_email))
    owner = event.vault.owner if event.vault_id and event.vault else None
    if owner is not None and owner.email and owner.email.lower() != event.user_email.lower():
        people.append((reasons.ReasonBy.LEAD, owner.email))
    return people


def _reason_letter(event: EmergencyUse, who: str, address: str) -> Letter:
    whose = "you" if who == reasons.ReasonBy.USER else f"{event.who}, in a vault you own,"
    return Letter(
        address,
        f"[OpenClaw] Why was a break-glass credential used? {event.item_title}",
        f"On {_when(event)} {whose} used an emergency (break-glass) credential. Every such use needs "
        f"a reason for the security team and the auditors.\n\n{_facts(event)}\n\nState the reason "
        f"here (no OpenClaw account needed; the link works once and expires in {reasons.link_days()} "
        f"days):\n{reasons.link_for(event, who=who, email=address)}" + FOOTER,
    )


def ask_for_reason(event: EmergencyUse) -> bool:
    """Mail each recipient their own signed link (once per event and recipient)."""
    letters = [_reason_letter(event, who, address) for who, address in reason_recipients(event)]
    return _deliver(event, mail=EmergencyMailSent.Mail.REASON, letters=letters, field="reason_requested_at",
                    action="breakglass.reason_requested")  # fmt: skip


def notify(events: Iterable[EmergencyUse], *, now: datetime.datetime | None = None) -> int:
    """Steps 2-3 of the module docstring; returns the number of events announced now."""
    now = now or timezone.now()
    fresh_since = now - datetime.timedelta(days=reasons.link_days())
    announced = 0
    for event in events:
        if event.first_used_at < fresh_since:
            continue
        event = EmergencyUse.objects.select_related("vault__owner").get(pk=event.pk)
        announced += announce(event)
        if event.reason_at is None:
            ask_for_reason(event)
    return announced


def notify_after_commit(events: list[EmergencyUse]) -> None:
    if events:
        transaction.on_commit(lambda: notify(events))


def pending(account_id: int) -> list[EmergencyUse]:
    """Events not yet announced (a mail server that was down): retried after each sync."""
    return list(EmergencyUse.objects.filter(account_id=account_id).filter(
        Q(contacts_notified_at__isnull=True) | Q(reason_requested_at__isnull=True, reason_at__isnull=True)))
