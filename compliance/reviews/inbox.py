"""A reviewer's inbox: the undecided entries they can decide, counted per open review."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User as UserModel
from django.db.models import Count, Q

from compliance.reviews.models import AccessReview, AccessReviewEntry
from compliance.reviews.review import is_manager

_FLAGGED = Q(flag_unused=True) | Q(flag_over_permissioned=True)


@dataclass(frozen=True)
class InboxRow:
    review: AccessReview
    mine: int  # routed to this person
    pool: int  # unowned vaults, for compliance officers and admins
    flagged: int

    @property
    def total(self) -> int:
        return self.mine + self.pool


def open_decisions(user: UserModel) -> list[InboxRow]:
    """Per open review: undecided entries routed to `user` and, for managers, the compliance pool's;
    never the person's own access (they cannot decide it). One GROUP BY."""
    routed = Q(reviewer=user) | Q(reviewer__isnull=True) if is_manager(user) else Q(reviewer=user)
    entries = AccessReviewEntry.objects.filter(routed, decision="", review__status=AccessReview.Status.OPEN)
    if (user.email or "").strip():
        entries = entries.exclude(user_email__iexact=user.email.strip())
    rows = entries.values("review_id").annotate(
        mine=Count("id", filter=Q(reviewer=user)), pool=Count("id", filter=Q(reviewer__isnull=True)),
        flagged=Count("id", filter=_FLAGGED),
    ).order_by()  # fmt: skip
    counts = {r["review_id"]: r for r in rows}
    reviews = AccessReview.objects.filter(pk__in=counts).select_related("account").order_by("-opened_at", "-pk")
    return [InboxRow(r, counts[r.pk]["mine"], counts[r.pk]["pool"], counts[r.pk]["flagged"]) for r in reviews]
