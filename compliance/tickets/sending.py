"""Create a ticket for a finding, a cleanup plan or an offboarding case, and remember its URL.

1. Resolve the subject (compliance/tickets/subjects.py) and claim the send (a TicketSend row,
   committed at once), so two clicks on "Create ticket" cannot both post: the second is told one
   is under way, or finds the first one's link. No lock is held while the tracker answers: a
   slow tracker must not block every other writer of the destination for up to its deadline.
2. Render the destination's templates from the subject's metadata (placeholders.py) and build
   the tracker's JSON body (payloads.py).
3. POST it (http.py) with the Authorization value read from the environment variable the
   destination names; the value is never stored, logged or audited.
4. On a created ticket, store a TicketLink, audit "ticket.created" on the subject and release
   the claim, in one short transaction; on any failure release the claim, store nothing and
   audit "ticket.failed" with a readable reason.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from compliance import audit
from compliance.tickets import placeholders
from compliance.tickets.http import TOTAL_TIMEOUT, PostError, post_json
from compliance.tickets.models import AUTH_ENV_PATTERN, TicketDestination, TicketLink, TicketSend
from compliance.tickets.payloads import TicketResponseError, TicketText, build_request, parse_response
from compliance.tickets.subjects import SUBJECTS, SubjectKind, facts_for

logger = logging.getLogger(__name__)
REDACTED = "[redacted]"
# A send ends within the POST's deadline; a claim far older than that belongs to a process that
# died mid-send, and would otherwise block tickets for this subject forever.
CLAIM_ABANDONED_AFTER = timedelta(seconds=TOTAL_TIMEOUT * 6)


class TicketError(Exception):
    """Why no ticket was created, in words for the person who clicked."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class TicketOutcome:
    link: TicketLink
    created: bool  # False: the subject already had a ticket at this destination


def subject_kind(name: str) -> SubjectKind:
    try:
        return SUBJECTS[name]
    except KeyError:
        raise TicketError(f"Tickets cannot be created for {name!r}.") from None


def authorization_for(destination: TicketDestination) -> str:
    """The Authorization header value from the destination's environment variable ("" if it
    names none). A name outside the TICKET_AUTH_ prefix is refused here too, not only by the
    form, so a row edited in the database still cannot send another secret out."""
    if not destination.auth_env:
        return ""
    if not re.match(AUTH_ENV_PATTERN, destination.auth_env):
        raise TicketError(f"The auth variable of {destination.name} must be named TICKET_AUTH_….")
    value = os.environ.get(destination.auth_env, "").strip()
    if not value:
        raise TicketError(f"The environment variable {destination.auth_env} is not set on this server.")
    return value


def redact(text: str, secret: str) -> str:
    """`text` without the credential or any sizeable piece of it (a tracker may echo the header
    back in an error, decoded or not)."""
    if not secret:
        return text
    pieces = {secret, *secret.split()}
    scheme, _, encoded = secret.partition(" ")
    if scheme.lower() == "basic" and encoded:
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8", "replace")
            pieces |= {decoded, *decoded.split(":", 1)}
        except (binascii.Error, ValueError):
            pass
    for piece in sorted((p for p in pieces if len(p) >= 6), key=len, reverse=True):
        text = text.replace(piece, REDACTED)
    return text


def ticket_text(destination: TicketDestination, kind: SubjectKind, subject: object, *, base_url: str) -> TicketText:
    values = facts_for(kind, subject, base_url=base_url)
    return TicketText(
        summary=placeholders.summary_text(destination.summary_template, values),
        description=placeholders.description_text(destination.description_template, values),
        severity=values.get("severity", ""),
        link=values.get("link", ""),
        subject_kind=kind.name,
        subject_id=int(subject.pk),  # type: ignore[attr-defined]  # every subject is a model row
    )


def _send(destination: TicketDestination, text: TicketText) -> tuple[str, str, int]:
    secret = authorization_for(destination)
    request = build_request(destination, text)
    try:
        result = post_json(request.url, request.payload, authorization=secret)
        created = parse_response(destination, result)
    except PostError as exc:
        raise TicketError(redact(f"{destination.name}: {exc}", secret)[:400]) from None
    except TicketResponseError as exc:
        raise TicketError(redact(f"{destination.name}: {exc}", secret)[:400], status=exc.status) from None
    return created.key, created.url, result.status


def create_ticket(
    *, subject: str, subject_id: int, destination_id: int, by: User, base_url: str, request: HttpRequest | None = None
) -> TicketOutcome:
    """Raises TicketError (nothing stored) or the subject model's DoesNotExist."""
    kind = subject_kind(subject)
    obj = kind.load(subject_id)
    destination_label = str(destination_id)
    try:
        destination, existing, token = _claim(kind, obj.pk, destination_id)
        destination_label = destination.name
        if existing is not None:
            return TicketOutcome(link=existing, created=False)
        try:
            key, url, status = _send(destination, ticket_text(destination, kind, obj, base_url=base_url))
        except BaseException:
            TicketSend.objects.filter(token=token).delete()
            raise
        link, created = _record(kind, obj, destination, token, key=key, url=url, status=status, by=by, request=request)
    except TicketError as exc:
        logger.warning("ticket for %s %s at %s failed: %s", kind.name, obj.pk, destination_label, exc)
        audit.record("ticket.failed", actor=by, request=request, target=obj, details={
            "destination": destination_label, "destination_id": destination_id, "subject": kind.name,
            "status": exc.status, "error": str(exc),
        })  # fmt: skip
        raise
    logger.info("ticket %s created for %s %s at %s", key, kind.name, obj.pk, destination.name)
    return TicketOutcome(link=link, created=created)


def _claim(kind: SubjectKind, subject_pk: int, destination_id: int) -> tuple[TicketDestination, TicketLink | None, str]:
    """Step 1 in its own short transaction: (destination, its existing link or None, our token).

    The claim row is inserted before the link is looked up: a send that finished a moment ago has
    committed its link by the time our insert gets through (it deletes its claim in the same
    transaction), so the look-up sees it and nothing is posted twice."""
    token = secrets.token_hex(16)
    now = timezone.now()
    with transaction.atomic():
        destination = TicketDestination.objects.filter(pk=destination_id).first()
        if destination is None or not destination.enabled:
            raise TicketError("That ticket destination does not exist or is disabled.")
        same = {"subject_kind": kind.name, "subject_id": subject_pk, "destination": destination}
        TicketSend.objects.filter(**same, claimed_at__lt=now - CLAIM_ABANDONED_AFTER).delete()
        try:
            with transaction.atomic():
                TicketSend.objects.create(**same, token=token, claimed_at=now)
        except IntegrityError:
            raise TicketError("A ticket for this is being created right now: reload in a few seconds.") from None
        existing = TicketLink.objects.filter(**same).first()
        if existing is not None:
            TicketSend.objects.filter(token=token).delete()
    return destination, existing, token


def _record(
    kind: SubjectKind, obj: Any, destination: TicketDestination, token: str, *,
    key: str, url: str, status: int, by: User, request: HttpRequest | None,
) -> tuple[TicketLink, bool]:  # fmt: skip
    """Step 4 in a second short transaction: the link, the audit entry, the claim released."""
    with transaction.atomic():
        TicketSend.objects.filter(token=token).delete()
        details = {"destination": destination.name, "destination_id": destination.pk, "kind": destination.kind,
                   "subject": kind.name, "key": key, "url": url, "status": status}  # fmt: skip
        try:
            with transaction.atomic():
                link = TicketLink.objects.create(subject_kind=kind.name, subject_id=obj.pk, destination=destination,
                                                 external_key=key, url=url, response_status=status, created_by=by)  # fmt: skip
            created = True
        except IntegrityError:
            # Only after an abandoned claim was taken over: both posted. Keep the first link and
            # say in the log which ticket at the tracker is the duplicate.
            link = TicketLink.objects.get(subject_kind=kind.name, subject_id=obj.pk, destination=destination)
            details["duplicate_of"] = link.external_key
            created = False
        audit.record("ticket.created", actor=by, request=request, target=obj, details=details)
    return link, created


def links_for(kind_name: str, subject_ids: list[int]) -> dict[int, list[TicketLink]]:
    """Each subject's tickets in one query."""
    found: dict[int, list[TicketLink]] = {}
    rows = TicketLink.objects.filter(subject_kind=kind_name, subject_id__in=subject_ids).select_related("destination")
    for link in rows:
        found.setdefault(link.subject_id, []).append(link)
    return found
