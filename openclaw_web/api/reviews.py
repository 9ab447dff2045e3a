"""Access reviews and their frozen entries (decisions included)."""

from __future__ import annotations

from typing import Any, Literal

from django.db.models import Q
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router

from compliance.reviews.models import AccessReview, AccessReviewEntry
from openclaw_web.api.auth import ApiAuth
from openclaw_web.api.inventory import PageParams
from openclaw_web.api.pagination import paginate
from openclaw_web.api.schemas import Id, ReviewEntryPage, ReviewOut, ReviewPage
from openclaw_web.roles import Capability

router = Router(auth=ApiAuth(Capability.VIEW_REVIEWS), tags=["access reviews"])


class ReviewFilters(PageParams):
    account: Id | None = None
    status: AccessReview.Status | None = None


class EntryFilters(PageParams):
    decision: Literal["undecided", "keep", "revoke", "change"] | None = None
    flagged: bool | None = None


def _reviews() -> Any:
    return AccessReview.objects.select_related("opened_by", "signed_off_by", "second_approver")


@router.get("/reviews", response=ReviewPage)
def list_reviews(request: HttpRequest, params: Query[ReviewFilters]) -> dict[str, Any]:
    """Newest first."""
    reviews = _reviews()
    if params.account is not None:
        reviews = reviews.filter(account_id=params.account)
    if params.status is not None:
        reviews = reviews.filter(status=params.status)
    return paginate(reviews, order=("-id",), cursor=params.cursor, limit=params.limit)


@router.get("/reviews/{review_id}", response=ReviewOut)
def get_review(request: HttpRequest, review_id: Id) -> AccessReview:
    return get_object_or_404(_reviews(), pk=review_id)


@router.get("/reviews/{review_id}/entries", response=ReviewEntryPage)
def list_review_entries(request: HttpRequest, review_id: Id, params: Query[EntryFilters]) -> dict[str, Any]:
    review = get_object_or_404(AccessReview, pk=review_id)
    entries = AccessReviewEntry.objects.filter(review=review).select_related("reviewer", "decided_by")
    if params.decision == "undecided":
        entries = entries.filter(decision="")
    elif params.decision:
        entries = entries.filter(decision=params.decision)
    flagged = Q(flag_unused=True) | Q(flag_over_permissioned=True)
    if params.flagged is True:
        entries = entries.filter(flagged)
    elif params.flagged is False:
        entries = entries.exclude(flagged)
    return paginate(entries, order=("id",), cursor=params.cursor, limit=params.limit)
