"""Handing review entries to another reviewer: a reviewer delegates their own entries, a compliance
officer or admin reassigns any. The new reviewer must be able to decide reviews and must not be the
person whose access the entry records. Every reassignment is one audit row listing the entries."""

from __future__ import annotations

from collections import defaultdict

from django.contrib.auth.models import User as UserModel
from django.db import transaction
from django.db.models import QuerySet

from compliance import audit
from compliance.reviews.models import AccessReview, AccessReviewEntry
from compliance.reviews.review import BulkOutcome, ReviewError, ReviewLocked, is_manager, is_subject
from openclaw_web.roles import MATRIX, Capability, active_people_with, has_capability


def eligible_reviewers() -> QuerySet[UserModel]:
    """Active people whose role decides reviews (superusers included)."""
    return active_people_with(MATRIX[Capability.DECIDE_REVIEWS]).order_by("first_name", "last_name", "username")


@transaction.atomic
def reassign(
    *, review: AccessReview, entries: QuerySet[AccessReviewEntry], user: UserModel, to_user: UserModel
) -> BulkOutcome:
    """Route `entries` (any filter of this review) to `to_user`.

    1. Lock the review; refuse when it is signed off, or when `to_user` cannot decide reviews.
    2. Skip, counted by reason, entries already decided (their decision stands), entries the person
       may not hand on (a reviewer hands on only what is routed to them), and entries whose subject
       is `to_user` (nobody reviews their own access).
    3. One UPDATE and one audit row with the entry ids and their previous reviewers.
    """
    locked = AccessReview.objects.select_for_update().get(pk=review.pk)
    if locked.is_locked:
        raise ReviewLocked("This review is signed off and locked: its entries can no longer move.")
    if not to_user.is_active or not has_capability(to_user, Capability.DECIDE_REVIEWS):
        raise ReviewError("That person's role does not decide access reviews.")
    manager = is_manager(user)
    rows = list(
        entries.filter(review_id=locked.pk).select_for_update(of=("self",))
        .only("pk", "reviewer_id", "user_email", "decision", "is_sync_identity").order_by("pk")
    )  # fmt: skip
    moved: list[int] = []
    previous: dict[int, int | None] = {}
    skipped: dict[str, int] = defaultdict(int)
    for entry in rows:
        if entry.decision or entry.is_sync_identity:
            skipped["already decided"] += 1
        elif not manager and entry.reviewer_id != user.pk:
            skipped["routed to someone else: only a compliance officer reassigns those"] += 1
        elif is_subject(to_user, entry.user_email):
            skipped[f"{to_user.get_username()} would be reviewing their own access"] += 1
        elif entry.reviewer_id == to_user.pk:
            skipped["already with that reviewer"] += 1
        else:
            moved.append(entry.pk)
            previous[entry.pk] = entry.reviewer_id
    if not moved:
        reason = next(iter(skipped), "no entry selected")
        raise ReviewError(f"Nothing was reassigned: {reason}.")
    AccessReviewEntry.objects.filter(pk__in=moved).update(reviewer=to_user)
    audit.record(
        "review.reassigned", actor=user, target=locked,
        details={"review": locked.pk, "to": to_user.pk, "to_label": to_user.get_username(), "entries": moved,
                 "previous_reviewers": previous, "skipped": sum(skipped.values())},
    )  # fmt: skip
    return BulkOutcome(moved, dict(skipped))
