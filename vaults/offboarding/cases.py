"""Opening offboarding cases: by a person ("mark as leaving"), or by the sync when a member became
inactive or was removed; cancelling one; the window its plan looks at.

Which people the sync opens cases for (`leaver_candidates`, run by after_sync.py):
1. members whose state is inactive now (SUSPENDED, TRANSFER_SUSPENDED, DELETED or a state unknown
   to OpenClaw) or who were removed from the account; never service accounts, never OpenClaw's own
   sync identity; a pending state (account recovery or transfer under way) opens nothing;
2. only people OpenClaw once saw active or pending (a history span says so): someone already
   inactive at the account's first sync left before OpenClaw watched — their leftover access is an
   over-permissioned finding, not a leaver with an SLA that ran out before anyone could act;
3. only when no case was opened for them since they were last seen active (idempotent).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone

from compliance import audit
from vaults.access import effective_access
from vaults.findings.sync_identity import is_sync_identity
from vaults.models import Account, OpUser, UserSpan
from vaults.models.access import classify_user_state, service_accounts
from vaults.offboarding import past_access
from vaults.offboarding.models import OffboardingCase
from vaults.offboarding.plan import OffboardingPlan, build_plan


class CaseRefused(Exception):
    """A case action that is not possible now; the message is for the person."""


def sla_days() -> int:
    return int(getattr(settings, "OFFBOARDING_SLA_DAYS", 7))


def lookback_days() -> int:
    return int(getattr(settings, "OFFBOARDING_LOOKBACK_DAYS", 90))


def open_case(
    op_user: OpUser,
    *,
    leave_date: datetime.date,
    reason: str,
    opened_by: User | None = None,
    request: HttpRequest | None = None,
) -> OffboardingCase:
    """The person's open case, opened now if there is none (a second call returns the same case).

    Audit-logged as `offboarding.case_opened` (actor: the person, or "system" for the sync)."""
    if op_user.is_service_account:
        raise CaseRefused("Service accounts are not offboarded: rotate their token instead.")
    existing = OffboardingCase.objects.filter(op_user=op_user, status=OffboardingCase.Status.OPEN).first()
    if existing is not None:
        return existing
    now = timezone.now()
    try:
        with transaction.atomic():
            case = OffboardingCase.objects.create(
                account_id=op_user.account_id,
                op_user=op_user,
                email=op_user.email,
                name=op_user.name,
                reason=reason,
                leave_date=leave_date,
                due_date=leave_date + datetime.timedelta(days=sla_days()),
                lookback_days=lookback_days(),
                opened_at=now,
                opened_by=opened_by,
                access_at_open=past_access.snapshot(effective_access(op_user.account, user=op_user)),
            )
    except IntegrityError:  # another request or sync opened it a moment ago
        return OffboardingCase.objects.get(op_user=op_user, status=OffboardingCase.Status.OPEN)
    audit.record(
        "offboarding.case_opened",
        actor=opened_by,
        request=request,
        actor_label="" if opened_by is not None else f"system ({case.opened_by_label})",
        target=case,
        details={"reason": reason, "leave_date": leave_date, "due_date": case.due_date, "op_user": op_user.op_id},
    )
    return case


def mark_leaving(
    *, op_user: OpUser, leave_date: datetime.date, user: User, request: HttpRequest | None = None
) -> OffboardingCase:
    """A person marks someone as leaving on `leave_date`; an open case keeps its date (say so by
    returning it unchanged)."""
    return open_case(op_user, leave_date=leave_date, reason=OffboardingCase.Reason.MARKED_LEAVING, opened_by=user,
                     request=request)  # fmt: skip


def cancel_case(*, case: OffboardingCase, user: User, note: str, request: HttpRequest | None = None) -> OffboardingCase:
    """The person stays after all: the case closes as cancelled, with the reason.

    Refused (and audit-logged) while 1Password shows the person removed, deleted or suspended:
    "they stay" is then false, and one person would turn an overdue leaver into a clean
    "Cancelled" line in the evidence report."""
    person = OpUser.objects.get(pk=case.op_user_id)
    if person.state_class == "inactive":
        audit.record(
            "offboarding.cancel_refused", actor=user, request=request, target=case,
            details={"note": note[:500], "op_user": person.op_id, "state": person.state,
                     "removed": person.removed_at is not None},
        )
        raise CaseRefused(
            "1Password shows this person removed or suspended: the case closes once their secrets are rotated"
            " and access removed, not by cancelling it."
        )
    updated = OffboardingCase.objects.filter(pk=case.pk, status=OffboardingCase.Status.OPEN).update(
        status=OffboardingCase.Status.CANCELLED, closed_note=note[:500], completed_at=timezone.now()
    )
    if not updated:
        raise CaseRefused("Only an open case can be cancelled.")
    case.refresh_from_db()
    audit.record("offboarding.case_cancelled", actor=user, request=request, target=case, details={"note": note[:500]})
    return case


def window(case: OffboardingCase) -> tuple[datetime.datetime, datetime.datetime]:
    """[lookback start 00:00 UTC, the later of the leave date's end and the case's opening]:
    use after the leave date but before the case opened (a late suspension) counts too."""
    since = datetime.datetime.combine(case.lookback_start, datetime.time.min, tzinfo=datetime.UTC)
    leave_end = datetime.datetime.combine(case.leave_date, datetime.time.max, tzinfo=datetime.UTC)
    return since, max(leave_end, case.opened_at)


def case_plan(case: OffboardingCase) -> OffboardingPlan:
    """The case's plan over its window (one builder for the page, the API and the command)."""
    since, until = window(case)
    return build_plan(
        case.op_user, since=since, until=until, past=past_access.before_leaving(case.op_user, case.access_at_open)
    )


def default_window(*, today: datetime.date | None = None) -> tuple[datetime.datetime, datetime.datetime]:
    """The window for a person without a case: the lookback ending today."""
    today = today or timezone.now().date()
    since = datetime.datetime.combine(today - datetime.timedelta(days=lookback_days()), datetime.time.min, tzinfo=datetime.UTC)
    return since, datetime.datetime.combine(today, datetime.time.max, tzinfo=datetime.UTC)


def leaver_candidates(account: Account) -> list[tuple[OpUser, datetime.datetime]]:
    """(person, when they were last seen active or pending) for every person rule 1-3 above opens
    a case for. Reads the history spans: one query for the last non-inactive span per person."""
    inactive = [
        u
        for u in OpUser.objects.filter(account=account).exclude(service_accounts())
        if u.state_class == "inactive" and not is_sync_identity(u, account)
    ]
    if not inactive:
        return []
    spans = UserSpan.objects.filter(account=account, op_id__in=[u.op_id for u in inactive], removed=False)
    last_seen: dict[str, datetime.datetime] = {}
    for op_id, state, valid_to in spans.values_list("op_id", "state", "valid_to"):
        if classify_user_state(state) == "inactive":
            continue
        if valid_to is None:  # still open: the history has not recorded the change yet
            continue
        last_seen[op_id] = max(valid_to, last_seen.get(op_id, valid_to))
    latest_case = dict(
        OffboardingCase.objects.filter(account=account, op_user__in=inactive)
        .values_list("op_user_id")
        .annotate(at=Max("opened_at"))
        .order_by()
    )
    candidates = []
    for user in inactive:
        seen = last_seen.get(user.op_id)
        if seen is None:
            continue
        opened = latest_case.get(user.pk)
        if opened is not None and opened >= seen:
            continue
        if OffboardingCase.objects.filter(op_user=user, status=OffboardingCase.Status.OPEN).exists():
            continue  # marked as leaving before they were suspended: that case goes on
        candidates.append((user, seen))
    return candidates
