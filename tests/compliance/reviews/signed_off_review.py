"""A signed-off access review with every kind of decision and cleanup result, for the tests of
review evidence and of the reports that print its sign-off (import the fixtures you use)."""

from __future__ import annotations

import subprocess

import pytest
from django.utils import timezone

from compliance.reviews import review as flow
from compliance.reviews.models import AccessReview
from tests.vaults import factories as f
from vaults.cleanup import approval
from vaults.cleanup.models import ProposedAction

JUSTIFICATIONS = {
    "bob": "Bob moved to the data team in October.",
    "alice": "Reading is enough for the support desk.",
    "carol": "Engineer on call for the payment gateway.",
    "dora": "Contractor engagement ended on 30 September.",
    "alice_shared": "Corporate shared logins for the office.",
}


def entry_for(review, user, vault):
    return review.entries.get(op_user=user, vault=vault)


def _name(user, first, last):
    user.first_name, user.last_name = first, last
    user.save()
    return user


def pdf_reading_text(body: bytes) -> str:
    """The PDF's text in reading order, whitespace collapsed (a cell's wrapped lines join again;
    pdftotext drops the hyphen of a word broken after one, so test texts avoid hyphens)."""
    out = subprocess.run(["pdftotext", "-", "-"], input=body, capture_output=True, check=True).stdout.decode()
    return " ".join(out.split())


@pytest.fixture
def people(team_lead, compliance_officer, approver, second_approver):
    return (_name(team_lead, "Tomas", "Lindqvist"), _name(compliance_officer, "Carol", "Compton"),
            _name(approver, "April", "Appleby"), _name(second_approver, "Bea", "Brandt"))


@pytest.fixture
def signed_off(org, people) -> AccessReview:
    """Five entries decided (two revocations, one change, two keeps), signed off and approved by a
    second person; of the three revocation actions one is approved and done, one failed in the
    worker, one awaits approval. Dora holds a permission 1Password may add later (unknown here)."""
    lead, officer, action_approver, second = people
    dora = f.make_op_user(account=org.account, name="Dora Decoy")
    f.grant(vault=org.payments, user=dora, permissions=["view_and_copy_passwords", "read_audit_trail_beta"])
    review = flow.open_review(account=org.account, period=org.period, opened_by=officer, require_second_approver=True)
    flow.decide(entry=entry_for(review, org.bob, org.payments), user=lead, decision="revoke", justification=JUSTIFICATIONS["bob"])
    flow.decide(entry=entry_for(review, org.alice, org.payments), user=lead, decision="change",
                justification=JUSTIFICATIONS["alice"], keep_permissions=["view_items"])
    flow.decide(entry=entry_for(review, org.carol, org.payments), user=lead, decision="keep", justification=JUSTIFICATIONS["carol"])
    flow.decide(entry=entry_for(review, dora, org.payments), user=lead, decision="revoke", justification=JUSTIFICATIONS["dora"])
    flow.decide(entry=entry_for(review, org.alice, org.shared), user=officer, decision="keep",
                justification=JUSTIFICATIONS["alice_shared"])
    flow.sign_off(review=review, user=officer, note="Quarterly review complete.")
    flow.approve_second(review=review, user=second)
    review.refresh_from_db()

    bob_action = ProposedAction.objects.get(op_user=org.bob)
    approval.approve_action(action=bob_action, approver=action_approver)
    # What the worker records after running `op` (vaults/cleanup/execute.py): one done, one failed.
    ProposedAction.objects.filter(pk=bob_action.pk).update(status=ProposedAction.Status.DONE, finished_at=timezone.now())
    ProposedAction.objects.filter(op_user=dora).update(status=ProposedAction.Status.FAILED, finished_at=timezone.now(),
                                                       error="op: the vault grant was already removed")
    return review
