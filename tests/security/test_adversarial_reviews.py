"""Adversarial review of access reviews at volume (issue 15): scope of a new review, self-review
through "all matching this filter", and entry ids forged across reviews. PostgreSQL, real views."""

from __future__ import annotations

from django.urls import reverse

from compliance.reviews import review as flow
from compliance.reviews.models import AccessReview
from tests.compliance.reviews.conftest import Org, org  # noqa: F401 (fixture)
from tests.vaults import factories as f


def test_a_vault_of_another_account_does_not_widen_a_new_review_to_every_vault(
    org: Org,  # noqa: F811
    compliance_officer,
    client_for,
) -> None:
    """The open form offers every account's vaults; `open_review` drops the ones of another
    account and, with none left, records the review as "All vaults". An officer who meant to
    review one vault gets a review of the whole account, with no error, and its evidence says
    "All vaults" although nobody chose that."""
    other = f.make_account(name="Globex")
    elsewhere = f.make_vault(account=other, name="Globex Finance")

    client_for(compliance_officer).post(
        reverse("reviews:open"), {"account": org.account.pk, "period": org.period.label, "vaults": [elsewhere.pk]}
    )

    review = AccessReview.objects.filter(account=org.account).first()
    assert review is None or not review.scope_all, "a one-vault choice became a review of every vault"

    # Decoy: choosing a vault of the same account scopes the review to it.
    client_for(compliance_officer).post(
        reverse("reviews:open"), {"account": org.account.pk, "period": org.period.label, "vaults": [org.shared.pk]}
    )
    scoped = AccessReview.objects.filter(account=org.account, scope_all=False).get()
    assert set(scoped.entries.values_list("vault_id", flat=True)) == {org.shared.pk}


def test_all_matching_never_decides_the_officers_own_access_nor_another_reviews_entries(
    org: Org,  # noqa: F811
    compliance_officer,
    client_for,
) -> None:
    """A compliance officer whose own access is in the review ticks "all matching" (no filter)
    and adds forged entry ids of a second review: only this review's entries that are not their
    own are decided."""
    compliance_officer.email = org.alice.email.upper()  # case differs: still the same person
    compliance_officer.save()
    review = flow.open_review(account=org.account, period=org.period, opened_by=compliance_officer)
    other = flow.open_review(account=org.account, period=org.period, opened_by=compliance_officer, title="second")
    foreign = list(other.entries.values_list("pk", flat=True))

    client_for(compliance_officer).post(
        reverse("reviews:bulk", args=[review.pk]),
        {"action": "revoke", "all_matching": "1", "entries": foreign, "justification": "Quarterly clean-up."},
    )

    own = review.entries.filter(op_user=org.alice)
    assert own.exists() and set(own.values_list("decision", flat=True)) == {""}
    assert set(other.entries.values_list("decision", flat=True)) - {"keep"} == {""}  # sync identity aside
    others = review.entries.exclude(op_user=org.alice).exclude(is_sync_identity=True)
    assert others.exists() and set(others.values_list("decision", flat=True)) == {"revoke"}  # decoy: the rest
