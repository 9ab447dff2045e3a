"""The daily end-date job: beat runs it once a day, and it runs again after every successful
sync (what the sync learned may end a removal). Every step is idempotent: a second run the same
day changes and sends nothing.

For one account, as of `now`:
1. Guest defaults (schedule.ensure_guest_defaults).
2. For each open end date, the vaults in its scope the person can still reach (scope.py).
3. Not ended yet, and within REMINDER_DAYS: the reminder to the sponsor, once (notices.py).
4. Ended and nothing left in scope: REMOVED (the sync confirmed the removal).
5. Ended and access left: the removal is proposed once through the offboarding helper
   (`propose_access_removals`), proposed by the sponsor so the approver must be someone else.
   A sponsor who is not an admin proposes only on the vaults they own (vaults/cleanup/scope.py);
   the vaults outside their scope go into a second plan (`outside_scope_plan`) proposed by the
   expiry identity below, never in the lead's name (sponsorship.py).
   A whole-access end date also removes the person from their groups (the same split: a lead
   proposes only groups wholly inside their vaults, vaults/cleanup/scope.py). A per-vault end date
   never does: leaving a group would also take the other vaults it reaches.
   With no sponsor (a guest's default) or one who can no longer propose, the proposer is
   OpenClaw's own expiry identity: an inactive account with no role that can never sign in or
   approve, so every approver is a second person, and a plan it proposes always needs two
   distinct human approvers, whatever the vault's policy (vaults/cleanup/approval.py). Until approved nothing changes in 1Password,
   and the finding `access_past_end_date` stays open.
6. Ended, whole access: the leaver flow opens (`open_case`), so what they used is rotated.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from compliance import audit
from openclaw_web.roles import Capability, has_capability
from vaults.access_expiry import notices
from vaults.access_expiry.models import AccessEndDate
from vaults.access_expiry.schedule import SYSTEM_LABEL, ensure_guest_defaults
from vaults.access_expiry.scope import scoped_vault_ids, still_reachable, vaults_by_user
from vaults.access_expiry.sponsorship import outside_scope
from vaults.cleanup import scope as cleanup_scope
from vaults.cleanup.models import CleanupPlan
from vaults.cleanup.plans import PlanError
from vaults.models import Account, OpGroup, Vault
from vaults.offboarding.cases import open_case
from vaults.offboarding.models import OffboardingCase
from vaults.offboarding.removals import membership_specs, propose_access_removals

logger = logging.getLogger(__name__)

# A week's notice: enough for a sponsor to extend a contract or line up the handover.
REMINDER_DAYS = 7
EXPIRY_USERNAME = "openclaw-access-expiry"
NO_DIRECT_GRANTS = (
    "No direct grant to revoke: the access left is through group memberships, which an administrator removes "
    "in 1Password (the next sync confirms it)."
)
NO_GROUP_PER_VAULT = (
    "No direct grant to revoke on these vaults: the access left is through group memberships, and leaving a group "
    "would also take the other vaults it reaches, so it is not proposed for a per-vault end date: an administrator "
    "changes the group's access in 1Password (the next sync confirms it)."
)


@dataclass
class DailySummary:
    defaults_created: int = 0
    defaults_cleared: int = 0
    reminders: int = 0
    removals_proposed: int = 0
    removed: int = 0
    leaver_cases: int = 0
    waiting: int = 0  # ended, access left, removal already proposed (or not possible)


def expiry_identity() -> User:
    """The proposer of removals nobody sponsors: never active, no role, no usable password."""
    user, created = User.objects.get_or_create(
        username=EXPIRY_USERNAME, defaults={"is_active": False, "first_name": "OpenClaw", "last_name": "access expiry"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def proposer_for(end_date: AccessEndDate) -> User:
    sponsor = end_date.sponsor
    if sponsor is not None and sponsor.is_active and has_capability(sponsor, Capability.PROPOSE_CLEANUP):
        return sponsor
    return expiry_identity()


def _plan_removal(
    end_date: AccessEndDate, proposer: User, vaults: list[Vault] | None, groups: list[OpGroup] | None = None
) -> tuple[CleanupPlan | None, str]:
    """(the plan revoking the direct grants in `vaults` and the memberships of `groups`, or why
    there is none)."""
    reason = f"Access end date {end_date.ends_on.isoformat()} reached" + (
        f": {end_date.reason}" if end_date.reason else ""
    )
    try:
        with transaction.atomic():
            plan = propose_access_removals(
                end_date.op_user, proposed_by=proposer, reason=reason[:300], vaults=vaults, groups=groups or ()
            )
    except PlanError as error:
        # An action that cannot be built (a vault gone mid-way): say why; the finding stays open.
        return None, f"The removal could not be proposed: {error}"
    return plan, ""


def _group_split(end_date: AccessEndDate, proposer: User) -> tuple[list[OpGroup], list[OpGroup]]:
    """(groups `proposer` may remove the person from, the rest): whole access only."""
    if not end_date.covers_all:
        return [], []
    specs = membership_specs(end_date.op_user)
    if proposer.pk == expiry_identity().pk:
        return [s.op_group for s in specs if s.op_group], []
    mine = [s.op_group for s in specs if s.op_group and not cleanup_scope.group_refusal(proposer, s)]
    return mine, [s.op_group for s in specs if s.op_group and s.op_group not in mine]


def _propose_removal(end_date: AccessEndDate, vault_ids: set[int], now: datetime.datetime) -> bool:
    """Propose the removal once; True when a plan was created. A sponsor who is not an admin
    proposes only the vaults they own (vaults/cleanup/scope.py); the rest is proposed by the
    expiry identity in a second plan, so a lead's end date never writes, in their name, to a
    vault nobody gave them."""
    left = list(Vault.objects.filter(pk__in=sorted(vault_ids)).order_by("name"))
    proposer = proposer_for(end_date)
    outside = [] if proposer.pk == expiry_identity().pk else outside_scope(proposer, left)
    groups, other_groups = _group_split(end_date, proposer)
    other: CleanupPlan | None = None
    if outside or other_groups:
        inside = [v for v in left if v not in outside]
        plan, note = _plan_removal(end_date, proposer, inside, groups) if inside or groups else (None, "")
        other, other_note = _plan_removal(end_date, expiry_identity(), outside, other_groups)
        # Counts, not names: the note is plain text, and vault and group names are hostile input.
        groups_note = f" and {len(other_groups)} group(s)" if other_groups else ""
        aside = (
            f"{len(outside)} vault(s){groups_note} outside the sponsor's: proposed separately by OpenClaw's expiry identity."
            if other
            else ""
        )
        notes = [note, other_note, aside]
    else:
        plan, note = _plan_removal(end_date, proposer, None if end_date.covers_all else left, groups)
        notes = [note]
    if plan is None and other is None and not any(notes):
        notes = [NO_DIRECT_GRANTS if end_date.covers_all else NO_GROUP_PER_VAULT]
    end_date.removal_plan = plan
    end_date.outside_scope_plan = other
    end_date.removal_proposed_at = now
    end_date.removal_note = " ".join(n for n in notes if n)[:500]
    end_date.status = AccessEndDate.Status.ENDED
    end_date.save(update_fields=["removal_plan", "outside_scope_plan", "removal_proposed_at", "removal_note", "status",
                                 "updated_at"])  # fmt: skip
    audit.record("access_expiry.removal_proposed", actor_label=SYSTEM_LABEL, target=end_date.op_user,
                 details={"end_date": end_date.pk, "plan": getattr(plan, "pk", None), "proposed_by": proposer.pk,
                          "outside_scope_plan": getattr(other, "pk", None), "vaults": sorted(vault_ids)})  # fmt: skip
    return plan is not None or other is not None


def _open_leaver_case(end_date: AccessEndDate, now: datetime.datetime) -> None:
    # No person opens it: the sponsor set a date once, the contract's end opened the case.
    open_case(end_date.op_user, leave_date=end_date.ends_on, reason=OffboardingCase.Reason.ACCESS_ENDED)
    end_date.leaver_case_opened_at = now
    end_date.save(update_fields=["leaver_case_opened_at", "updated_at"])


def _mark_removed(end_date: AccessEndDate, now: datetime.datetime) -> None:
    end_date.status = AccessEndDate.Status.REMOVED
    end_date.removed_at = now
    end_date.save(update_fields=["status", "removed_at", "updated_at"])
    audit.record("access_expiry.removed", actor_label=SYSTEM_LABEL, target=end_date.op_user,
                 details={"end_date": end_date.pk, "ends_on": end_date.ends_on.isoformat()})  # fmt: skip


def run_access_expiry(*, account: Account, now: datetime.datetime | None = None) -> DailySummary:
    """Steps 1-6 of the module docstring for one account."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    summary = DailySummary()
    with transaction.atomic():
        summary.defaults_created, summary.defaults_cleared = ensure_guest_defaults(account=account, now=now)
    end_dates = list(
        AccessEndDate.objects.filter(account=account, status__in=AccessEndDate.OPEN)
        .select_related("op_user", "sponsor")
        .order_by("ends_on", "pk")
    )
    if not end_dates:
        return summary
    reach, scoped = vaults_by_user(account), scoped_vault_ids(end_dates)
    vault_names = dict(Vault.objects.filter(account=account).values_list("pk", "name"))
    for end_date in end_dates:
        left = still_reachable(end_date, reach=reach, scoped=scoped)
        with transaction.atomic():
            if not end_date.has_ended(today):
                due = end_date.days_left(today) <= REMINDER_DAYS and end_date.reminded_at is None
                if due and left:
                    names = sorted((vault_names[v] for v in left), key=str.casefold)
                    notices.send_reminder(end_date, vault_names=names, vault_ids=left)
                    end_date.reminded_at = now
                    end_date.save(update_fields=["reminded_at", "updated_at"])
                    summary.reminders += 1
                continue
            if not left:
                _mark_removed(end_date, now)
                summary.removed += 1
                continue
            if end_date.removal_proposed_at is None:
                summary.removals_proposed += _propose_removal(end_date, left, now)
            else:
                summary.waiting += 1
            if end_date.covers_all and end_date.leaver_case_opened_at is None:
                _open_leaver_case(end_date, now)
                summary.leaver_cases += 1
    logger.info("access expiry for %s: %s", account.name, summary)
    return summary


def run_for_all_accounts(*, now: datetime.datetime | None = None) -> list[DailySummary]:
    return [run_access_expiry(account=account, now=now) for account in Account.objects.order_by("pk")]
