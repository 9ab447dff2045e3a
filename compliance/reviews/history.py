"""What the previous review decided for the same access: shown beside each entry so a reviewer sees
"kept last quarter because …" without opening the old review."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from compliance.reviews.models import AccessReview, AccessReviewEntry

_CLOSED = (AccessReview.Status.SIGNED_OFF, AccessReview.Status.AWAITING_SECOND)


@dataclass(frozen=True)
class PreviousDecision:
    review_id: int
    review_title: str
    period: str
    decision: str
    label: str
    justification: str


def _key(email: str, vault_id: int | None) -> tuple[str, int | None]:
    return (email or "").strip().lower(), vault_id


def previous_decisions(review: AccessReview, entries: Iterable[AccessReviewEntry]) -> dict[int, PreviousDecision]:
    """entry pk -> the decision for the same user e-mail and vault in the most recent earlier
    signed-off review of the same account. One query for a page of entries; entries without an
    e-mail or whose vault is gone have no match (a name alone could be someone else)."""
    page = [e for e in entries if e.user_email and e.vault_id is not None]
    if not page:
        return {}
    earlier = (
        AccessReviewEntry.objects.filter(
            review__account_id=review.account_id, review__status__in=_CLOSED, review__opened_at__lt=review.opened_at,
            vault_id__in={e.vault_id for e in page}, user_email__in={e.user_email for e in page},
        ).exclude(decision="")
        .order_by("-review__opened_at", "-review_id")
        .values_list("user_email", "vault_id", "review_id", "review__title", "review__period", "decision",
                     "justification")
    )  # fmt: skip
    labels = dict(AccessReviewEntry.Decision.choices)
    latest: dict[tuple[str, int | None], PreviousDecision] = {}
    for email, vault_id, review_id, title, period, decision, justification in earlier:
        latest.setdefault(_key(email, vault_id),
                          PreviousDecision(review_id, title, period, decision, labels.get(decision, decision), justification))
    found = {e.pk: latest.get(_key(e.user_email, e.vault_id)) for e in page}
    return {pk: prev for pk, prev in found.items() if prev is not None}
