"""The access-review flow: open (freeze the snapshot), decide, remind, sign off (lock).

1. `open_review` freezes every user-vault access of the scope (vaults.access.effective_access)
   with the period's usage (one GROUP BY over ItemUsage) into AccessReviewEntry rows, routes each
   entry to the vault's owner (else the compliance officers; never to the person whose access it
   is: `_route`) and pre-flags unused access and
   users with an open over_permissioned finding on that vault. OpenClaw's own sync identity
   (op whoami user_uuid) is frozen too, for a complete record, but shown apart: never flagged,
   decided "keep" by the system with the reason, and never turned into a revocation.
2. Reviewers `decide` keep / revoke / change with a justification until the review is locked,
   one entry at a time or many at once (`decide_many`); nobody decides their own access.
3. `send_reminders` e-mails every reviewer with undecided entries (those without an address are
   named, not mailed).
4. `sign_off` by a compliance officer locks the review; with `require_second_approver` a second,
   different person `approve_second`s it. The final sign-off turns revoke/change decisions into
   REVOKE_USER cleanup actions behind the cleanup approval gate (vaults.cleanup.plans).
Every step is audit-logged. Locked reviews refuse every change here, whatever the caller.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.auth.models import User as UserModel
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from compliance import audit
from compliance.reviews.models import AccessReview, AccessReviewEntry
from compliance.reviews.periods import Period
from openclaw_web.roles import Capability, Role, has_capability
from openclaw_web.site_url import absolute_url
from vaults.access import AccessRow, effective_access
from vaults.findings.models import Finding
from vaults.findings.sync_identity import sync_identity_op_id
from vaults.models import Account, ItemUsage, Vault

Decision = AccessReviewEntry.Decision


class ReviewError(Exception):
    """A change the review cannot accept; the message is for the person (shown on the row: 422)."""

    status = 422


class ReviewLocked(ReviewError):
    """The review is signed off: nothing in it changes any more."""

    status = 409


class NotYourEntry(ReviewError):
    status = 403


# --- opening ------------------------------------------------------------------------------------


def _in_scope(row: AccessRow, vault_ids: set[int], classifications: set[str]) -> bool:
    if not vault_ids and not classifications:
        return True
    return row.vault.pk in vault_ids or row.vault.classification in classifications


def _usage_by_pair(account: Account, period: Period) -> dict[tuple[str, str], tuple[int, int, datetime.datetime]]:
    """(user op id, vault op id) -> (events, distinct items, last use) in the period: one GROUP BY."""
    rows = (
        ItemUsage.objects.filter(account=account, timestamp__gte=period.start, timestamp__lt=period.end)
        .values("user_op_id", "vault_op_id")
        .annotate(n=Count("id"), items=Count("item_op_id", distinct=True), last=Max("timestamp"))
        .order_by()
    )
    return {(r["user_op_id"], r["vault_op_id"]): (r["n"], r["items"], r["last"]) for r in rows}


def _over_permissioned_reasons(account: Account) -> dict[int, tuple[set[int], dict[str, object]]]:
    """op_user pk -> (vault ids named by the open finding, its details)."""
    found = Finding.objects.filter(account=account, kind=Finding.Kind.OVER_PERMISSIONED, status=Finding.Status.OPEN,
                                   op_user__isnull=False).values_list("op_user_id", "details")
    return {user_id: (set((details or {}).get("vault_ids") or []), details or {}) for user_id, details in found}


def _reasons_for(vault: Vault, details: dict[str, object]) -> list[str]:
    reasons = []
    if details.get("inactive"):
        reasons.append("inactive user still has access")
    elevated = details.get("elevated")
    if isinstance(elevated, dict) and vault.name in elevated:
        reasons.append("elevated direct rights: " + ", ".join(map(str, elevated[vault.name])))
    breadth = details.get("breadth")
    if isinstance(breadth, dict):
        reasons.append(f"reaches {breadth.get('vaults')} vaults (peers' median {breadth.get('peer_median')})")
    unused = details.get("unused")
    if isinstance(unused, list) and vault.name in unused:
        reasons.append("direct grant not used within the policy's unused-access window")
    return reasons or ["open over-permissioned finding"]


def is_subject(user: AbstractBaseUser | AnonymousUser, user_email: str) -> bool:
    """True when `user` is the person whose access the entry records (same e-mail address, case
    and spaces ignored). A person without an address, or an entry without one, matches nobody."""
    mine = (getattr(user, "email", "") or "").strip().lower()
    return bool(mine) and mine == (user_email or "").strip().lower()


def _reviewer_for(vault: Vault) -> UserModel | None:
    owner = vault.owner
    if owner is not None and owner.is_active and has_capability(owner, Capability.DECIDE_REVIEWS):
        return owner
    return None


def _route(owner: UserModel | None, subject_email: str, officers: list[UserModel]) -> UserModel | None:
    """Nobody reviews their own access: when the vault owner is the entry's subject, the entry goes
    to a compliance officer who is not the subject, else to the pool (where `can_decide` still
    keeps the subject away from it)."""
    if owner is None or not is_subject(owner, subject_email):
        return owner
    return next((o for o in officers if o.pk != owner.pk and not is_subject(o, subject_email)), None)


def _active_officers() -> list[UserModel]:
    return list(UserModel.objects.filter(groups__name=Role.COMPLIANCE_OFFICER.value, is_active=True).order_by("pk"))


def second_approver_for_production() -> bool:
    return bool(settings.REVIEW_SECOND_APPROVER_FOR_PRODUCTION)


def covers_production(account: Account, vaults: list[Vault], classifications: list[str]) -> bool:
    """Does the scope (every vault when nothing is chosen) hold a live production vault?"""
    production = Vault.Classification.PRODUCTION
    if production in classifications or any(v.classification == production for v in vaults):
        return True
    if vaults or classifications:
        return False
    return Vault.objects.filter(account=account, classification=production, removed_at__isnull=True).exists()


def _scope_label(vaults: list[Vault], classifications: list[str]) -> str:
    if not vaults and not classifications:
        return "All vaults"
    labels = dict(Vault.Classification.choices)
    parts = [f"{labels.get(c, c)} vaults" for c in classifications]
    if vaults:
        names = ", ".join(v.name[:60] for v in vaults[:5]) + (f" and {len(vaults) - 5} more" if len(vaults) > 5 else "")
        parts.append(names)
    return "; ".join(parts)[:500]


@transaction.atomic
def open_review(
    *,
    account: Account,
    period: Period,
    opened_by: UserModel,
    vaults: Iterable[Vault] = (),
    classifications: Iterable[str] = (),
    require_second_approver: bool | None = False,
    title: str = "",
) -> AccessReview:
    """Create the review and freeze its entries (see the module docstring, step 1).
    `require_second_approver=None` decides by scope: on when it covers a production vault and
    REVIEW_SECOND_APPROVER_FOR_PRODUCTION is on (the default)."""
    chosen = list(vaults)
    if any(v.account_id != account.pk for v in chosen):
        raise ReviewError("Every vault in a review's scope must belong to the review's account.")
    classes = sorted(set(classifications))
    if require_second_approver is None:
        require_second_approver = covers_production(account, chosen, classes) and second_approver_for_production()
    now = timezone.now()
    review = AccessReview.objects.create(
        account=account, period=period.label, period_start=period.start, period_end=period.end,
        title=(title or f"Access review {period.label} — {account.name}")[:300],
        scope_all=not chosen and not classes, scope_vault_ids=[v.pk for v in chosen], scope_classifications=classes,
        scope_label=_scope_label(chosen, classes), require_second_approver=require_second_approver,
        opened_by=opened_by, opened_at=now,
    )  # fmt: skip
    vault_ids = {v.pk for v in chosen}
    usage = _usage_by_pair(account, period)
    flagged = _over_permissioned_reasons(account)
    owners = {v.pk: v for v in Vault.objects.filter(account=account).select_related("owner")}
    own_id = sync_identity_op_id(account)
    officers = _active_officers()
    entries = []
    for row in effective_access(account):
        if not _in_scope(row, vault_ids, set(classes)):
            continue
        vault = owners.get(row.vault.pk, row.vault)
        count, items, last = usage.get((row.user.op_id, vault.op_id), (0, 0, None))
        if own_id and row.user.op_id == own_id:
            entries.append(_sync_identity_entry(review, row, vault, count, items, last, now))
            continue
        reasons: list[str] = []
        if count == 0:
            reasons.append("no use of this vault in the period")
        over = flagged.get(row.user.pk)
        over_here = over is not None and (not over[0] or vault.pk in over[0])
        if over is not None and over_here:
            reasons.extend(_reasons_for(vault, over[1]))
        entries.append(
            AccessReviewEntry(
                review=review, op_user=row.user, vault=vault,
                user_label=str(row.user)[:500], user_email=row.user.email[:500],
                user_state=_entry_state(row),
                user_type=row.user.user_type[:40], vault_name=vault.name[:1000],
                vault_classification=vault.classification, permissions=sorted(row.permissions),
                direct_permissions=sorted(row.direct_permissions), via_direct=row.via_direct,
                via_groups=list(row.via_groups), usage_count=count, items_used=items, last_used_at=last,
                flag_unused=count == 0, flag_over_permissioned=over_here, flag_reasons=reasons,
                reviewer=_route(_reviewer_for(vault), row.user.email, officers),
            )
        )  # fmt: skip
    AccessReviewEntry.objects.bulk_create(entries, batch_size=1000)
    audit.record(
        "review.opened", actor=opened_by, target=review,
        details={"period": period.label, "scope": review.scope_label, "entries": len(entries),
                 "flagged": sum(1 for e in entries if e.is_flagged), "second_approver": require_second_approver},
    )  # fmt: skip
    return review


SYNC_IDENTITY_NOTE = (
    "OpenClaw's own service account (the identity the sync reads 1Password with): kept by the system. "
    "Revoking it would stop the sync; review it with the 1Password administrators, not here."
)


def _entry_state(row: AccessRow) -> str:
    """op's state as printed (SUSPENDED, TRANSFER_SUSPENDED, RECOVERY_STARTED...); a removed
    user is REMOVED. The review page explains each (vaults.models.user_state_label)."""
    if row.user.removed_at is not None:
        return "REMOVED"
    return (row.user.state or "")[:40]


def _sync_identity_entry(
    review: AccessReview, row: AccessRow, vault: Vault, count: int, items: int,
    last: datetime.datetime | None, now: datetime.datetime,
) -> AccessReviewEntry:  # fmt: skip
    """The sync identity's access, recorded apart: no flag, decided keep by the system."""
    return AccessReviewEntry(
        review=review, op_user=row.user, vault=vault, user_label=str(row.user)[:500], user_email=row.user.email[:500],
        user_state=_entry_state(row), user_type=row.user.user_type[:40], vault_name=vault.name[:1000],
        vault_classification=vault.classification, permissions=sorted(row.permissions),
        direct_permissions=sorted(row.direct_permissions), via_direct=row.via_direct, via_groups=list(row.via_groups),
        usage_count=count, items_used=items, last_used_at=last, flag_unused=False, flag_over_permissioned=False,
        flag_reasons=[], is_sync_identity=True, decision=Decision.KEEP, justification=SYNC_IDENTITY_NOTE,
        decided_at=now, reviewer=None,
    )  # fmt: skip


# --- deciding -----------------------------------------------------------------------------------


def is_manager(user: AbstractBaseUser | AnonymousUser) -> bool:
    return has_capability(user, Capability.MANAGE_REVIEWS)


def can_decide(user: AbstractBaseUser | AnonymousUser, entry: AccessReviewEntry) -> bool:
    """The entry's reviewer, or a compliance officer / admin (who also covers unowned vaults);
    never the person whose access it is, whatever their role."""
    return not _refusal(user, entry)


OWN_ACCESS = "Nobody reviews their own access: this entry is yours, so another reviewer decides it."


def _refusal(user: AbstractBaseUser | AnonymousUser, entry: AccessReviewEntry) -> str:
    """Why `user` may not decide `entry` ("" when they may)."""
    if not has_capability(user, Capability.DECIDE_REVIEWS):
        return "Your role does not decide access reviews."
    if is_subject(user, entry.user_email):
        return OWN_ACCESS
    if is_manager(user) or (entry.reviewer_id is not None and entry.reviewer_id == user.pk):
        return ""
    return "This entry is routed to another reviewer."


def _locked_review(review_id: int) -> AccessReview:
    """Re-read the review under a row lock so a sign-off and a decision cannot interleave."""
    return AccessReview.objects.select_for_update().get(pk=review_id)


# Keeping an unflagged access is the common case (90% of a review): one click records this note
# instead of asking for one. A flagged entry, a revocation or a change always needs a typed reason.
ROUTINE_KEEP = "Still needed: kept without a note (the access was not flagged)."


@transaction.atomic
def decide(
    *,
    entry: AccessReviewEntry,
    user: UserModel,
    decision: str,
    justification: str,
    keep_permissions: Iterable[str] = (),
) -> AccessReviewEntry:
    review = _locked_review(entry.review_id)
    if review.is_locked:
        raise ReviewLocked("This review is signed off and locked: its decisions can no longer change.")
    # Who may decide is read under the lock: the entry may have been handed to someone else since
    # the caller read it (delegation.reassign takes the same review lock).
    entry = AccessReviewEntry.objects.select_for_update().get(pk=entry.pk)
    refusal = _refusal(user, entry)
    if refusal:
        raise NotYourEntry(refusal)
    if entry.is_sync_identity and decision != Decision.KEEP:
        raise ReviewError("This is OpenClaw's own service account: revoking it would stop the sync. "
                          "Change it with the 1Password administrators instead.")
    if decision not in (Decision.KEEP, Decision.REVOKE, Decision.CHANGE):
        raise ReviewError("Choose keep, revoke or change.")
    justification = (justification or "").strip()
    if not justification and decision == Decision.KEEP and not entry.is_flagged:
        justification = ROUTINE_KEEP
    if not justification:
        raise ReviewError("A justification is required for this decision.")
    kept: list[str] = []
    if decision == Decision.CHANGE:
        kept = sorted({p for p in keep_permissions if p in entry.permissions})
        if not kept:
            raise ReviewError("Keep at least one permission, or decide to revoke.")
        if set(kept) == set(entry.permissions):
            raise ReviewError("A change must remove at least one permission; otherwise decide to keep.")
    fresh = entry
    previous = fresh.decision
    fresh.decision, fresh.justification, fresh.keep_permissions = decision, justification[:4000], kept
    fresh.decided_by, fresh.decided_at = user, timezone.now()
    fresh.save(update_fields=["decision", "justification", "keep_permissions", "decided_by", "decided_at"])
    audit.record(
        "review.decided", actor=user, target=fresh,
        details={"review": review.pk, "decision": decision, "previous": previous, "keep_permissions": kept,
                 "justification": justification[:500]},
    )  # fmt: skip
    return fresh


BULK_DECISIONS = (Decision.KEEP, Decision.REVOKE)


@dataclass(frozen=True)
class BulkOutcome:
    changed: list[int]
    skipped: dict[str, int]  # reason -> entries left as they were

    def __str__(self) -> str:
        n = len(self.changed)
        text = f"{n} entr{'ies' if n != 1 else 'y'}"
        if self.skipped:
            text += "; left unchanged: " + "; ".join(f"{count} — {reason}" for reason, count in self.skipped.items())
        return text


@transaction.atomic
def decide_many(
    *, review: AccessReview, entries: QuerySet[AccessReviewEntry], user: UserModel, decision: str, justification: str
) -> BulkOutcome:
    """Decide every entry of `entries` (any filter of this review) the same way, in one transaction.

    1. Lock the review row (as `decide` does), refuse when locked or the decision is not keep/revoke
       (a change needs per-row permissions) or the justification is empty.
    2. Lock the entries; those the person may not decide (another reviewer's, their own access,
       OpenClaw's service account) are skipped and counted by reason.
    3. One UPDATE for the rest, and one audit row naming every entry id with its previous decision,
       so each decision stays attributable (the entry also records decided_by / decided_at).
    """
    locked = _locked_review(review.pk)
    if locked.is_locked:
        raise ReviewLocked("This review is signed off and locked: its decisions can no longer change.")
    if decision not in BULK_DECISIONS:
        raise ReviewError("Decide several entries at once with keep or revoke; change permissions row by row.")
    justification = (justification or "").strip()
    if not justification:
        raise ReviewError("A justification is required for every decision.")
    rows = list(
        entries.filter(review_id=locked.pk).select_for_update(of=("self",))
        .only("pk", "reviewer_id", "user_email", "is_sync_identity", "decision").order_by("pk")
    )  # fmt: skip
    changed: list[int] = []
    previous: dict[int, str] = {}
    skipped: dict[str, int] = defaultdict(int)
    for entry in rows:
        reason = "OpenClaw's own service account" if entry.is_sync_identity else _refusal(user, entry)
        if reason:
            skipped[reason] += 1
            continue
        changed.append(entry.pk)
        if entry.decision and entry.decision != decision:
            previous[entry.pk] = entry.decision
    if not changed:
        raise ReviewError("None of these entries can be decided by you" + (f": {next(iter(skipped))}" if skipped else "."))
    AccessReviewEntry.objects.filter(pk__in=changed).update(
        decision=decision, justification=justification[:4000], keep_permissions=[], decided_by=user,
        decided_at=timezone.now(),
    )  # fmt: skip
    audit.record(
        "review.decided_bulk", actor=user, target=locked,
        details={"review": locked.pk, "decision": decision, "entries": changed, "previous": previous,
                 "skipped": sum(skipped.values()), "justification": justification[:500]},
    )  # fmt: skip
    return BulkOutcome(changed, dict(skipped))


# --- progress and reminders ---------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewerProgress:
    reviewer_id: int | None
    label: str
    total: int
    decided: int

    @property
    def undecided(self) -> int:
        return self.total - self.decided

    @property
    def percent(self) -> int:
        return round(100 * self.decided / self.total) if self.total else 100


COMPLIANCE_POOL = "Compliance officers (vault without owner)"


def progress(review: AccessReview) -> list[ReviewerProgress]:
    """Per reviewer: entries and decided entries (one GROUP BY)."""
    rows = (
        review.entries.values("reviewer_id", "reviewer__username", "reviewer__first_name", "reviewer__last_name")
        .annotate(total=Count("id"), decided=Count("id", filter=~Q(decision="")))
        .order_by("reviewer__username")
    )
    result = []
    for row in rows:
        full = f"{row['reviewer__first_name']} {row['reviewer__last_name']}".strip()
        label = (full or row["reviewer__username"]) if row["reviewer_id"] else COMPLIANCE_POOL
        result.append(ReviewerProgress(row["reviewer_id"], label, row["total"], row["decided"]))
    return result


def overall(review: AccessReview) -> ReviewerProgress:
    rows = progress(review)
    return ReviewerProgress(None, "All reviewers", sum(r.total for r in rows), sum(r.decided for r in rows))


def compliance_officer_emails() -> list[str]:
    officers = UserModel.objects.filter(groups__name=Role.COMPLIANCE_OFFICER.value, is_active=True).exclude(email="")
    return sorted(set(officers.values_list("email", flat=True)))


def review_url(review: AccessReview) -> str:
    return absolute_url(reverse("reviews:detail", args=[review.pk]))


def _label(first: str, last: str, username: str) -> str:
    return f"{first} {last}".strip() or username


def reviewers_without_address(review: AccessReview) -> list[str]:
    """People a reminder cannot reach: reviewers with undecided entries and no e-mail address
    (for unowned vaults, compliance officers without one). The review page names them."""
    names: set[str] = set()
    undecided = review.entries.filter(decision="")
    people = UserModel.objects.filter(pk__in=undecided.exclude(reviewer=None).values("reviewer_id"), email="")
    if undecided.filter(reviewer=None).exists():
        people |= UserModel.objects.filter(groups__name=Role.COMPLIANCE_OFFICER.value, is_active=True, email="")
    for first, last, username in people.values_list("first_name", "last_name", "username").distinct():
        names.add(_label(first, last, username))
    return sorted(names)


@dataclass(frozen=True)
class ReminderOutcome:
    sent: int
    without_address: list[str]

    def __str__(self) -> str:
        text = f"{self.sent} reminder e-mail{'s' if self.sent != 1 else ''} sent"
        if self.without_address:
            text += f", {len(self.without_address)} without an address ({', '.join(self.without_address)})"
        return text + "."


def send_reminders(*, review: AccessReview, actor: AbstractBaseUser | None = None) -> ReminderOutcome:
    """E-mail every reviewer with undecided entries (unowned vaults: every compliance officer).
    The mail carries counts and a link only. Reviewers without an address are counted, not
    mailed; "Last reminder" is recorded only when a mail went out."""
    if review.is_locked:
        return ReminderOutcome(0, [])
    pending: dict[str, int] = defaultdict(int)
    undecided = review.entries.filter(decision="").values("reviewer_id", "reviewer__email").annotate(n=Count("id"))
    for row in undecided.order_by():
        if row["reviewer_id"] is None:
            for email in compliance_officer_emails():
                pending[email] += row["n"]
        elif row["reviewer__email"]:
            pending[row["reviewer__email"]] += row["n"]
    missing = reviewers_without_address(review)
    sent = 0
    for email, count in sorted(pending.items()):
        subject = f"[OpenClaw] {count} access decision{'s' if count != 1 else ''} waiting: {review.title}"[:200]
        body = (
            f"The access review “{review.title}” (period {review.period}) has {count} entr"
            f"{'ies' if count != 1 else 'y'} waiting for your decision (keep, revoke or change).\n\n"
            f"Open the review: {review_url(review)}\n\n"
            "This message contains no vault contents and no secret values."
        )
        sent += send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email], fail_silently=False)
    if sent:
        AccessReview.objects.filter(pk=review.pk).update(last_reminded_at=timezone.now())
    audit.record("review.reminders_sent", actor=actor, actor_label="" if actor else "scheduler", target=review,
                 details={"recipients": len(pending), "undecided": sum(pending.values()) if pending else 0,
                          "sent": sent, "without_address": len(missing)})  # fmt: skip
    return ReminderOutcome(sent, missing)


def send_all_reminders() -> int:
    """Beat / command: reminders for every open review with undecided entries."""
    total = 0
    for review in AccessReview.objects.filter(status=AccessReview.Status.OPEN, entries__decision="").distinct():
        total += send_reminders(review=review).sent
    return total


# --- sign-off -----------------------------------------------------------------------------------


@transaction.atomic
def sign_off(*, review: AccessReview, user: UserModel, note: str = "") -> AccessReview:
    """A compliance officer signs off: every entry must be decided. Locks the review."""
    locked = _locked_review(review.pk)
    if not is_manager(user):
        raise ReviewError("Only a compliance officer can sign a review off.")
    if locked.is_locked:
        raise ReviewLocked("This review is already signed off.")
    undecided = locked.entries.filter(decision="").count()
    if undecided:
        raise ReviewError(f"{undecided} entr{'ies are' if undecided != 1 else 'y is'} still undecided.")
    now = timezone.now()
    locked.signed_off_by, locked.signed_off_at, locked.locked_at = user, now, now
    locked.sign_off_note = note.strip()[:4000]
    locked.status = AccessReview.Status.AWAITING_SECOND if locked.require_second_approver else AccessReview.Status.SIGNED_OFF
    locked.save()
    audit.record("review.signed_off", actor=user, target=locked,
                 details={"awaiting_second_approver": locked.require_second_approver, "note": locked.sign_off_note[:500]})
    if not locked.require_second_approver:
        propose_revocations(review=locked, proposer=user)
    return locked


def can_second_approve(user: AbstractBaseUser | AnonymousUser, review: AccessReview) -> bool:
    roles_ok = has_capability(user, Capability.SECOND_APPROVE_REVIEWS)
    return roles_ok and review.status == AccessReview.Status.AWAITING_SECOND and review.signed_off_by_id != user.pk


@transaction.atomic
def approve_second(*, review: AccessReview, user: UserModel) -> AccessReview:
    locked = _locked_review(review.pk)
    if locked.status != AccessReview.Status.AWAITING_SECOND:
        raise ReviewError("This review is not waiting for a second approver.")
    if locked.signed_off_by_id == user.pk:
        raise ReviewError("The second approver must be a different person from the one who signed off.")
    if not can_second_approve(user, locked):
        raise ReviewError("Only a compliance officer or an approver can give the second approval.")
    locked.second_approver, locked.second_approved_at = user, timezone.now()
    locked.status = AccessReview.Status.SIGNED_OFF
    locked.save(update_fields=["second_approver", "second_approved_at", "status"])
    audit.record("review.second_approved", actor=user, target=locked)
    assert locked.signed_off_by is not None
    propose_revocations(review=locked, proposer=locked.signed_off_by)
    return locked


GROUP_REMEDIATION = (
    "Access also comes through group{s} {groups}: remove the user from the group or narrow the group's grant "
    "in 1Password (a group change affects every member, so it is not proposed automatically)."
)


def propose_revocations(*, review: AccessReview, proposer: UserModel) -> int:
    """Turn revoke/change decisions into REVOKE_USER cleanup actions in one submitted plan (the
    cleanup approval gate: an approver other than `proposer` must approve before anything runs).
    Rights that come only through groups cannot be revoked per user: the entry gets a remediation
    note instead. Returns the number of actions proposed."""
    from vaults.cleanup import plans
    from vaults.cleanup.models import ProposedAction

    entries = list(
        review.entries.exclude(decision__in=["", Decision.KEEP]).exclude(is_sync_identity=True)
        .select_related("op_user", "vault")
    )  # fmt: skip
    specs, spec_entries = [], []
    for entry in entries:
        revoked = set(entry.revoked_permissions)
        direct = revoked & set(entry.direct_permissions)
        notes = []
        if revoked - direct and entry.via_groups:
            notes.append(GROUP_REMEDIATION.format(s="s" if len(entry.via_groups) > 1 else "", groups=", ".join(entry.via_groups)))
        if direct and entry.op_user is not None and entry.vault is not None and entry.vault.removed_at is None:
            specs.append(plans.ActionSpec(ProposedAction.Kind.REVOKE_USER, entry.vault, op_user=entry.op_user,
                                          params={"permissions": sorted(direct)}, phase=ProposedAction.Phase.PERMISSIONS))
            spec_entries.append(entry)
        elif direct:
            notes.append("The user or vault is no longer in the inventory: verify in 1Password that the access is gone.")
        if notes:
            AccessReviewEntry.objects.filter(pk=entry.pk).update(remediation=" ".join(notes))
    if not specs:
        return 0
    try:
        plan = plans.create_plan(account=review.account, proposed_by=proposer, specs=specs,
                                 title=f"Revocations decided in {review.title}")
        plans.submit_plan(plan=plan, user=proposer)
    except plans.PlanError as error:
        for entry in spec_entries:
            AccessReviewEntry.objects.filter(pk=entry.pk).update(
                remediation=f"Could not be proposed as a cleanup action ({error}); revoke it in 1Password by hand.")
        audit.record("review.revocations_failed", actor=proposer, target=review, details={"error": str(error)[:500]})
        return 0
    by_pair = {(a.op_user_id, a.vault_id): a for a in plan.actions.all()}
    for entry in spec_entries:
        action = by_pair.get((entry.op_user_id, entry.vault_id))  # nullable ids: a None pair finds nothing
        if action is not None:
            AccessReviewEntry.objects.filter(pk=entry.pk).update(cleanup_action=action)
    AccessReview.objects.filter(pk=review.pk).update(cleanup_plan=plan)
    review.cleanup_plan = plan
    audit.record("review.revocations_proposed", actor=proposer, target=review,
                 details={"cleanup_plan": plan.pk, "actions": len(specs)})
    return len(specs)
