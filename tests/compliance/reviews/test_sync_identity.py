"""OpenClaw's own service account in an access review: recorded, shown apart, never flagged,
never revoked — following the flags must not cut the sync off."""

from __future__ import annotations

import pytest

from compliance.reviews import review as flow
from compliance.reviews.models import AccessReviewEntry
from tests.compliance.reviews.conftest import entry_for
from tests.vaults import factories as f


@pytest.fixture
def own(org):
    """The sync's service account: manage rights on both vaults, no usage at all."""
    user = f.make_op_user(account=org.account, name="OpenClaw sync", user_type="SERVICE_ACCOUNT")
    org.account.service_account_user_uuid = user.op_id
    org.account.save()
    for vault in (org.payments, org.shared):
        f.grant(vault=vault, user=user, permissions=["view_items", "manage_vault"])
    return user


def test_the_sync_identity_is_in_the_review_apart_and_never_flagged(org, own, compliance_officer) -> None:
    review = flow.open_review(account=org.account, period=org.period, opened_by=compliance_officer)

    entries = list(review.entries.filter(op_user=own))
    assert len(entries) == 2
    for entry in entries:
        assert entry.is_sync_identity and not entry.is_flagged and entry.flag_reasons == []
        assert entry.decision == AccessReviewEntry.Decision.KEEP and "OpenClaw" in entry.justification
    # The decoy: a person who also never used a vault is still flagged unused.
    assert entry_for(review, org.bob, org.payments).flag_unused


def test_nobody_can_decide_to_revoke_the_sync_identity(org, own, compliance_officer) -> None:
    review = flow.open_review(account=org.account, period=org.period, opened_by=compliance_officer)
    entry = entry_for(review, own, org.payments)

    with pytest.raises(flow.ReviewError, match="stop the sync"):
        flow.decide(entry=entry, user=compliance_officer, decision="revoke", justification="flagged")


def test_sign_off_proposes_no_revocation_for_the_sync_identity(org, own, compliance_officer) -> None:
    review = flow.open_review(account=org.account, period=org.period, opened_by=compliance_officer)
    # Forge a revoke decision the page would refuse: sign-off still must not propose it.
    review.entries.filter(op_user=own).update(decision="revoke")
    for entry in review.entries.filter(decision=""):
        flow.decide(entry=entry, user=compliance_officer, decision="revoke", justification="leaver")

    flow.sign_off(review=review, user=compliance_officer)

    review.refresh_from_db()
    assert review.cleanup_plan is not None
    revoked = set(review.cleanup_plan.actions.values_list("op_user_id", flat=True))
    assert own.pk not in revoked and org.alice.pk in revoked
