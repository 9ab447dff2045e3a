"""Setting, changing and clearing end dates, and the default end date every guest gets.

Every change a person makes is audit-logged (`access_expiry.set` / `access_expiry.cleared`);
defaults written by the daily job are logged with the actor "access expiry".
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, Min, OuterRef
from django.http import HttpRequest
from django.utils import timezone

from compliance import audit
from vaults.access_expiry.models import AccessEndDate
from vaults.access_expiry.sponsorship import change_refusal, outside_scope
from vaults.access_expiry.withdraw import withdraw_removal
from vaults.cleanup.scope import refusal_message
from vaults.models import Account, OpUser, Vault
from vaults.models.history import UserSpan

GUEST = "GUEST"
SYSTEM_LABEL = "access expiry"


class EndDateRefused(Exception):
    """The change is not allowed; the message is for the person."""


def guest_access_days() -> int:
    return int(getattr(settings, "GUEST_ACCESS_DAYS", 90))


def _audit_details(end_date: AccessEndDate, vault_ids: Sequence[int]) -> dict[str, object]:
    return {
        "op_user": end_date.op_user_id,
        "ends_on": end_date.ends_on.isoformat(),
        "covers_all": end_date.covers_all,
        "vaults": sorted(vault_ids),
        "sponsor": end_date.sponsor_id,
        "default": end_date.is_default,
    }


def _matching_open(op_user: OpUser, vault_ids: set[int] | None) -> AccessEndDate | None:
    """The open end date a new one replaces: the whole-access one, or a vault-scoped one naming
    exactly the same vaults (setting a grant's expiry twice moves it, it does not add a second)."""
    open_rows = AccessEndDate.objects.filter(op_user=op_user, status__in=AccessEndDate.OPEN)
    if vault_ids is None:
        return open_rows.filter(covers_all=True).first()
    for row in open_rows.filter(covers_all=False).prefetch_related("vaults"):
        if {v.pk for v in row.vaults.all()} == vault_ids:
            return row
    return None


@transaction.atomic
def set_end_date(
    *,
    op_user: OpUser,
    ends_on: datetime.date,
    vaults: Sequence[Vault] | None,
    sponsor: User,
    reason: str,
    actor: User,
    request: HttpRequest | None = None,
) -> AccessEndDate:
    """Record (or move) the end of `op_user`'s access: everything (`vaults` None) or the named
    vaults. The sponsor is reminded a week before and proposes the removal when it comes.

    1. Service accounts and people removed from 1Password are refused: a service account's
       access is not a person's engagement, and a removed person has nothing left to end.
       Vaults outside the sponsor's cleanup scope are refused, and so is moving an end date
       the actor may not change (sponsorship.py).
    2. An open end date with the same scope is updated in place; moving it resets the reminder
       and, when the new date has not come, the "ended" state, withdrawing the removal
       proposed (withdraw.py).
    3. One audit entry with the scope, the date and the sponsor.
    """
    if op_user.is_service_account:
        raise EndDateRefused("Service accounts do not get end dates: their access is reviewed, not scheduled.")
    if op_user.removed_at is not None:
        raise EndDateRefused("This person was removed from 1Password: there is no access left to end.")
    vault_ids = None if vaults is None else {v.pk for v in vaults}
    if vault_ids is not None and not vault_ids:
        raise EndDateRefused("Choose at least one vault, or end all access.")
    if vaults and any(v.account_id != op_user.account_id for v in vaults):
        raise EndDateRefused("Those vaults belong to another account.")
    if vaults and (outside := outside_scope(sponsor, vaults)):
        # The removal would be proposed in the sponsor's name: the cleanup scope rule applies now.
        raise EndDateRefused(refusal_message(outside))
    row = _matching_open(op_user, vault_ids)
    if row is not None and (refused := change_refusal(actor, row)):
        raise EndDateRefused(refused)
    previous = row.ends_on.isoformat() if row else None
    if row is None:
        row = AccessEndDate(account_id=op_user.account_id, op_user=op_user, covers_all=vault_ids is None,
                            created_by=actor)  # fmt: skip
    row.ends_on = ends_on
    row.sponsor = sponsor
    row.reason = reason.strip()[:500]
    row.is_default = False
    if previous != ends_on.isoformat():
        row.reminded_at = None
        if not row.has_ended(timezone.localdate()) and row.status == AccessEndDate.Status.ENDED:
            # Extended after it ended: the removal proposed then is withdrawn (its unapproved
            # actions rejected), and the new date proposes again when it comes.
            withdraw_removal(row, why=f"the end date was moved from {previous} to {ends_on.isoformat()}",
                             actor=actor, request=request)  # fmt: skip
            row.status = AccessEndDate.Status.SCHEDULED
            row.removal_proposed_at = None
            row.removal_plan = None
            row.outside_scope_plan = None
            row.removal_note = ""
    row.save()
    if vault_ids is not None:
        row.vaults.set(sorted(vault_ids))
    details = _audit_details(row, sorted(vault_ids or []))
    details["previous_ends_on"] = previous
    audit.record("access_expiry.set", actor=actor, request=request, target=op_user, details=details)
    return row


@transaction.atomic
def clear_end_date(*, end_date: AccessEndDate, actor: User, request: HttpRequest | None = None) -> AccessEndDate:
    """Take an open end date away. A guest's whole-access end date cannot be cleared, only
    moved: guests are time-limited by policy (GUEST_ACCESS_DAYS). Only its sponsor, an admin or
    the owner of every vault it covers may clear it; a removal it proposed is withdrawn."""
    if not end_date.is_open:
        raise EndDateRefused("This end date is no longer open.")
    if end_date.covers_all and end_date.op_user.user_type.upper() == GUEST:
        raise EndDateRefused("Guests always have an end date: set a later one instead of clearing it.")
    if refused := change_refusal(actor, end_date):
        raise EndDateRefused(refused)
    withdraw_removal(end_date, why="the end date was cleared", actor=actor, request=request)
    end_date.status = AccessEndDate.Status.CLEARED
    end_date.cleared_at = timezone.now()
    end_date.cleared_by = actor
    end_date.save(update_fields=["status", "cleared_at", "cleared_by", "updated_at"])
    vault_ids = list(end_date.vaults.values_list("pk", flat=True))
    audit.record("access_expiry.cleared", actor=actor, request=request, target=end_date.op_user,
                 details=_audit_details(end_date, vault_ids))  # fmt: skip
    return end_date


def _first_seen(account: Account, op_ids: list[str]) -> dict[str, datetime.datetime]:
    """When OpenClaw first saw each person: their earliest history span (one query)."""
    rows = UserSpan.objects.filter(account=account, op_id__in=op_ids).values("op_id").annotate(first=Min("valid_from"))
    return {r["op_id"]: r["first"] for r in rows.order_by()}


def ensure_guest_defaults(*, account: Account, now: datetime.datetime) -> tuple[int, int]:
    """Give every guest without a whole-access end date one, GUEST_ACCESS_DAYS after OpenClaw
    first saw them; clear the default of anyone who is no longer a guest. Returns (created,
    cleared). A guest whose whole-access end date already ran its course (removed) gets none
    again: the removal was the point."""
    bounded = AccessEndDate.objects.filter(
        op_user=OuterRef("pk"), covers_all=True, status__in=[*AccessEndDate.OPEN, AccessEndDate.Status.REMOVED]
    )
    guests = list(
        OpUser.objects.filter(account=account, user_type__iexact=GUEST, removed_at__isnull=True).exclude(Exists(bounded))
    )
    first_seen = _first_seen(account, [g.op_id for g in guests])
    days = guest_access_days()
    created = 0
    for guest in guests:
        seen = first_seen.get(guest.op_id, now)
        row = AccessEndDate.objects.create(
            account=account, op_user=guest, covers_all=True, is_default=True,
            ends_on=timezone.localdate(seen) + datetime.timedelta(days=days),
            reason=f"Guest default: {days} days after OpenClaw first saw them",
        )  # fmt: skip
        audit.record("access_expiry.default_set", actor_label=SYSTEM_LABEL, target=guest,
                     details=_audit_details(row, []))  # fmt: skip
        created += 1
    promoted = AccessEndDate.objects.filter(account=account, is_default=True, status__in=AccessEndDate.OPEN).exclude(
        op_user__user_type__iexact=GUEST
    )
    cleared = 0
    for row in promoted.select_related("op_user"):
        withdraw_removal(row, why="no longer a guest: the guest default no longer applies")
        row.status = AccessEndDate.Status.CLEARED
        row.cleared_at = now
        row.save(update_fields=["status", "cleared_at", "updated_at"])
        audit.record("access_expiry.default_cleared", actor_label=SYSTEM_LABEL, target=row.op_user,
                     details={**_audit_details(row, []), "why": "no longer a guest"})  # fmt: skip
        cleared += 1
    return created, cleared
