"""The reason for a break-glass use: asked through a signed link, or recorded by a person.

The link carries `{"e": event pk, "w": who}` signed with its own salt (TimestampSigner through
`signing.dumps`), so a link works for one event and one person only, cannot be edited into
another event's link, and expires after BREAK_GLASS_LINK_DAYS. The page behind it needs no
OpenClaw account: the user of a break-glass credential may have none. One reason per event:
the first one stored wins (a conditional UPDATE), later ones are refused, and the page turns
read-only. Every reason is audit-logged with the link's person as the actor.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from compliance import audit
from openclaw_web.site_url import absolute_url
from vaults.breakglass.models import EmergencyUse

SALT = "openclaw.breakglass.reason-link"
# A reason is a few sentences for an auditor; longer text is cut, not refused.
MAX_REASON = 2000
ReasonBy = EmergencyUse.ReasonBy


class LinkError(Exception):
    """A link that cannot be used; the message is for the person who opened it."""


class ReasonRefused(Exception):
    """A reason that cannot be stored (one was given already); the message is for the person."""


@dataclass(frozen=True)
class LinkHolder:
    event: EmergencyUse
    who: str  # "user" or "lead"
    label: str  # the e-mail address the link was sent to


def link_days() -> int:
    return int(getattr(settings, "BREAK_GLASS_LINK_DAYS", 7))


def make_token(event: EmergencyUse, *, who: str, email: str) -> str:
    return signing.dumps({"e": event.pk, "w": who, "m": email}, salt=SALT, compress=True)


def link_for(event: EmergencyUse, *, who: str, email: str) -> str:
    path = reverse("breakglass:reason_link", args=[make_token(event, who=who, email=email)])
    return absolute_url(path)


def read_token(token: str) -> LinkHolder:
    """The event and person a link names; LinkError when it is tampered with, expired or stale."""
    try:
        data = signing.loads(token, salt=SALT, max_age=datetime.timedelta(days=link_days()))
    except signing.SignatureExpired as exc:
        raise LinkError(
            f"This link has expired (links are valid for {link_days()} days). Ask your security team to record "
            "the reason for you."
        ) from exc
    except signing.BadSignature as exc:
        raise LinkError("This link is not valid: it may have been cut short or changed. Open the link from "
                        "the e-mail again, or ask your security team.") from exc
    if not isinstance(data, dict) or data.get("w") not in (ReasonBy.USER, ReasonBy.LEAD):
        raise LinkError("This link is not valid.")
    pk = data.get("e")
    event = EmergencyUse.objects.select_related("account").filter(pk=pk).first() if isinstance(pk, int) else None
    if event is None:
        raise LinkError("The break-glass event of this link no longer exists.")
    return LinkHolder(event=event, who=str(data["w"]), label=str(data.get("m") or ""))


def _clean(reason: str) -> str:
    text = reason.strip()[:MAX_REASON]
    if not text:
        raise ReasonRefused("Write the reason: what happened and why the emergency credential was needed.")
    return text


def _store(event: EmergencyUse, *, reason: str, by: str, label: str) -> EmergencyUse:
    now = timezone.now()
    stored = EmergencyUse.objects.filter(pk=event.pk, reason_at__isnull=True).update(
        reason=reason, reason_by=by, reason_by_label=label[:500], reason_at=now)
    if not stored:
        raise ReasonRefused("A reason was already recorded for this use; it cannot be changed.")
    event.refresh_from_db()
    return event


@transaction.atomic
def give_reason_by_link(*, holder: LinkHolder, reason: str, request: HttpRequest | None = None) -> EmergencyUse:
    """The person the link was sent to states the reason (once). The audit row's actor is that
    person (by the address the link was sent to) and the client address of the request."""
    text = _clean(reason)
    event = _store(holder.event, reason=text, by=holder.who, label=holder.label)
    audit.record("breakglass.reason_given", request=request,
                 actor_label=f"{holder.label or 'link holder'} (signed link)"[:300],
                 target=event, details={"by": holder.who, "length": len(text)})
    return event


@transaction.atomic
def record_reason(*, event: EmergencyUse, user: User, reason: str, request: HttpRequest | None = None) -> EmergencyUse:
    """An admin or the vault's lead records the reason in OpenClaw (once)."""
    text = _clean(reason)
    event = _store(event, reason=text, by=ReasonBy.PERSON, label=user.get_username())
    audit.record("breakglass.reason_recorded", actor=user, request=request, target=event, details={"length": len(text)})
    return event
