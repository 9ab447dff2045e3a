"""The dashboard's "Your work" cards: what waits for the signed-in person.

Per person, so never part of the cached dashboard fragment (its key holds roles, not the
person): a few small queries per request. A role without the capability gets no card.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db.models import Count

from compliance.reviews.models import AccessReview, AccessReviewEntry
from openclaw_web.roles import Capability, has_capability
from vaults.cleanup import approval, notifications
from vaults.cleanup.models import CleanupPlan, ProposedAction

# Plans of mine shown on the card; the cleanup list has the rest.
MY_PLANS_SHOWN = 5


@dataclass
class ReviewWork:
    review: AccessReview
    undecided: int


@dataclass
class PlanLine:
    plan: CleanupPlan
    note: str  # who acts next, in words


@dataclass
class YourWork:
    approvals: list[CleanupPlan] | None = None  # None: the role cannot approve (no card)
    reviews: list[ReviewWork] | None = None
    my_plans: list[PlanLine] | None = None
    cards: int = field(default=0)


def _name(person: User) -> str:
    return person.get_full_name() or person.get_username()


def _review_work(user: User) -> list[ReviewWork]:
    rows = (
        AccessReviewEntry.objects.filter(reviewer=user, decision="", review__status=AccessReview.Status.OPEN)
        .values("review_id").annotate(n=Count("id")).order_by()
    )  # fmt: skip
    counts = {row["review_id"]: row["n"] for row in rows}
    reviews = AccessReview.objects.filter(pk__in=counts).order_by("-opened_at")
    return [ReviewWork(review, counts[review.pk]) for review in reviews]


def _plan_lines(user: User) -> list[PlanLine]:
    plans = list(
        CleanupPlan.objects.filter(proposed_by=user).exclude(status=CleanupPlan.Status.REJECTED)[:MY_PLANS_SHOWN]
    )
    if not plans:
        return []
    identities: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = (
        ProposedAction.objects.filter(plan__in=plans, status__in=[ProposedAction.Status.APPROVED,
                                                                  ProposedAction.Status.MANUAL,
                                                                  ProposedAction.Status.FAILED])
        .values("plan_id", "status", "identity").annotate(n=Count("id")).order_by()
    )  # fmt: skip
    for row in rows:
        identities[row["plan_id"]][row["status"] + ":" + row["identity"]] += row["n"]
    approvers = ", ".join(_name(p) for p in notifications.approvers_of(plans[0])) or "nobody yet (no approver exists)"
    return [PlanLine(plan, _note(plan, identities[plan.pk], approvers)) for plan in plans]


def _note(plan: CleanupPlan, counts: dict[str, int], approvers: str) -> str:
    S, Identity = CleanupPlan.Status, ProposedAction.Identity
    if plan.status == S.DRAFT:
        return "Draft: submit it when ready."
    if plan.status == S.PROPOSED:
        return f"Awaiting approval by {approvers}."
    if plan.status == S.APPROVED:
        manual = counts.get(f"approved:{Identity.MANUAL}", 0)
        worker = sum(n for key, n in counts.items() if key.startswith("approved:")) - manual
        parts = [f"{worker} by the cleanup worker once an approver starts it"] if worker else []
        parts += [f"{manual} manual step{'s' if manual != 1 else ''} for an administrator"] if manual else []
        return "Approved: " + "; ".join(parts) + "."
    if plan.status == S.EXECUTING:
        return "Executing now."
    if plan.status == S.ATTENTION:
        failed = sum(n for key, n in counts.items() if key.startswith("failed:"))
        manual = sum(n for key, n in counts.items() if key.startswith("manual:"))
        parts = [f"{failed} failed"] if failed else []
        parts += [f"{manual} manual step{'s' if manual != 1 else ''} waiting for an administrator"] if manual else []
        return "Needs attention: " + ("; ".join(parts) or "see the plan") + "."
    return "Executed."


def your_work(user: User) -> YourWork:
    work = YourWork()
    if has_capability(user, Capability.APPROVE_CLEANUP):
        work.approvals = list(approval.plans_awaiting(user).select_related("proposed_by"))
    if has_capability(user, Capability.DECIDE_REVIEWS):
        work.reviews = _review_work(user)
    if has_capability(user, Capability.PROPOSE_CLEANUP):
        work.my_plans = _plan_lines(user)
    work.cards = sum(1 for card in (work.approvals, work.reviews, work.my_plans) if card is not None)
    return work
