"""Mails about end dates: the reminder a week before, and the weekly contractor report.

1. Each (key, recipient) is sent once (`ExpiryMail`, unique): a second run of the daily job, a
   retried task or a re-run of the weekly report sends nothing more.
2. Mails go out after the transaction commits, so nobody is told about a change that rolled back.
3. People without an e-mail address are skipped, and the skip is audit-logged like every send.
Mails carry metadata only: names, dates, vault names, counts and a link; never a secret value,
notes or a fingerprint.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from compliance import audit
from openclaw_web.roles import Role, active_administrators
from openclaw_web.site_url import absolute_url
from openclaw_web.text import one_line
from vaults.access_expiry.models import AccessEndDate, ExpiryMail
from vaults.models import Vault

SENDER_LABEL = "access expiry"
FOOTER = "\n\nThis message contains no vault contents and no secret values."


def admins() -> list[User]:
    return list(active_administrators())


def compliance_officers() -> list[User]:
    people = User.objects.filter(groups__name=Role.COMPLIANCE_OFFICER.value, is_active=True)
    return list(people.distinct().order_by("username"))


def reminder_recipients(end_date: AccessEndDate, vault_ids: Iterable[int]) -> list[User]:
    """The sponsor; with none (a guest's default) or an inactive one, the owners of the vaults
    the end date still covers; with no owner either, the administrators."""
    if end_date.sponsor is not None and end_date.sponsor.is_active:
        return [end_date.sponsor]
    owner_ids = Vault.objects.filter(pk__in=list(vault_ids), owner__isnull=False).values_list("owner_id", flat=True)
    owners = list(User.objects.filter(pk__in=list(owner_ids), is_active=True).order_by("username"))
    return owners or admins()


def deliver(*, key: str, event: str, recipients: Iterable[User], subject: str, body: str,
            end_date: AccessEndDate | None = None) -> int:  # fmt: skip
    """Send once per recipient now; returns the number of mails sent."""
    sent = 0
    target = end_date.op_user if end_date is not None else None
    for person in recipients:
        if not person.email:
            audit.record("access_expiry.mail.no_address", actor_label=SENDER_LABEL, target=target,
                         details={"event": event, "recipient": person.pk, "key": key})  # fmt: skip
            continue
        try:
            with transaction.atomic():
                ExpiryMail.objects.create(key=key, event=event, end_date=end_date, recipient=person,
                                          sent_at=timezone.now())  # fmt: skip
                send_mail(subject[:200], body, settings.DEFAULT_FROM_EMAIL, [person.email], fail_silently=False)
        except IntegrityError:
            continue  # already sent
        audit.record("access_expiry.mail.sent", actor_label=SENDER_LABEL, target=target,
                     details={"event": event, "recipient": person.pk, "key": key})  # fmt: skip
        sent += 1
    return sent


def send_reminder(end_date: AccessEndDate, *, vault_names: list[str], vault_ids: Iterable[int]) -> int:
    """The week-before reminder for one end date, once per recipient (after commit)."""
    person = end_date.op_user
    who = one_line(person.name or person.email or person.op_id, 120)
    scope = "all their 1Password access" if end_date.covers_all else "their access to " + ", ".join(
        one_line(n, 80) for n in vault_names[:10]) + (f" and {len(vault_names) - 10} more" if len(vault_names) > 10 else "")  # fmt: skip
    default = " (the default end date for guests)" if end_date.is_default else ""
    body = (
        f"The access of {who} ({one_line(person.email, 120)}) ends on {end_date.ends_on.isoformat()}{default}: {scope}.\n\n"
        "On that day OpenClaw proposes the removal in a cleanup plan; an approver other than the proposer must "
        "approve it before anything changes in 1Password. To keep the access, set a later end date on the person's "
        "page before then."
        f"\n\nOpen the person: {absolute_url(reverse('vaults:person', args=[person.pk]))}" + FOOTER
    )
    recipients = reminder_recipients(end_date, vault_ids)
    mail = {"key": f"reminder:{end_date.pk}:{end_date.ends_on.isoformat()}", "event": "reminder",
            "recipients": recipients, "subject": f"[OpenClaw] Access of {who} ends on {end_date.ends_on.isoformat()}",
            "body": body, "end_date": end_date}  # fmt: skip
    transaction.on_commit(lambda: deliver(**mail))  # type: ignore[arg-type]  # the keywords of deliver
    return len(recipients)
