"""A large review built straight through the ORM (a thousand entries in a second): `n` people on
20 vaults, every `flag_every`-th entry flagged unused, all routed to `reviewer`."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.utils import timezone

from compliance.reviews.models import AccessReview, AccessReviewEntry
from compliance.reviews.periods import period_containing
from tests.vaults import factories as f


def build_review(*, opened_by: User, reviewer: User | None, n: int = 1000, flag_every: int = 10) -> AccessReview:
    account = f.make_account(name="Volume Co")
    vaults = [f.make_vault(account=account, name=f"Vault {v:02d}") for v in range(20)]
    period, now = period_containing(timezone.now()), timezone.now()
    review = AccessReview.objects.create(
        account=account, title="Quarterly review at scale", period=period.label, period_start=period.start,
        period_end=period.end, opened_by=opened_by, opened_at=now, scope_label="All vaults",
    )  # fmt: skip
    entries = []
    for i in range(n):
        vault = vaults[i % len(vaults)]
        flagged = i % flag_every == 0
        entries.append(AccessReviewEntry(
            review=review, vault=vault, vault_name=vault.name, user_label=f"Person {i:04d}",
            user_email=f"person{i:04d}@example.com", permissions=["edit_items", "view_items"],
            direct_permissions=["edit_items", "view_items"], via_direct=True, usage_count=0 if flagged else 3,
            flag_unused=flagged, flag_reasons=["no use of this vault in the period"] if flagged else [],
            reviewer=reviewer,
        ))  # fmt: skip
    AccessReviewEntry.objects.bulk_create(entries, batch_size=1000)
    return review
