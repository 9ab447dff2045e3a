"""Adversarial review of issue #16 (lifecycle): the two-person rule and the vault scope of
proposals created by the new flows (contractor end dates, offboarding, break-glass).

A team lead proposes cleanup only on vaults they own (vaults/cleanup/scope.py); every write to
1Password needs an approver who is not the proposer, and a system proposal needs a second human.
Each test names the hole when it goes red; a decoy beside it shows the legitimate path works.
Real PostgreSQL, no mocks.
"""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.vaults.factories import grant, make_account, make_op_user, make_vault
from vaults.access_expiry import daily
from vaults.access_expiry.models import AccessEndDate
from vaults.cleanup import scope
from vaults.cleanup.approval import approve_action
from vaults.cleanup.models import ProposedAction
from vaults.findings.models import Policy
from vaults.models import Vault

pytestmark = pytest.mark.django_db


def _run_daily(account, capture) -> daily.DailySummary:
    with capture(execute=True):
        return daily.run_access_expiry(account=account)


def test_a_lead_cannot_get_revocations_proposed_in_their_name_on_vaults_they_do_not_own(
    team_lead, admin_user, client_for, django_capture_on_commit_callbacks
) -> None:
    """The lead owns "Team Dev" only. Through the person page they set an end date (today) on
    someone who also holds a grant on "Finance Production", owned by nobody (an admin's to clean
    up). The daily job then proposes, in the lead's name, a revocation on Finance Production:
    the scope rule that refuses the same revocation on the cleanup pages is bypassed."""
    account = make_account(name="acme")
    own = make_vault(account=account, name="Team Dev", owner=team_lead)
    foreign = make_vault(account=account, name="Finance Production", classification=Vault.Classification.PRODUCTION)
    person = make_op_user(account=account, name="Casey Contractor")
    grant(vault=own, user=person)
    grant(vault=foreign, user=person, permissions=["view_items", "view_and_copy_passwords"])

    response = client_for(team_lead).post(
        reverse("access_expiry:set", args=[person.pk]),
        {"ends_on": timezone.localdate().isoformat(), "scope": "all", "reason": "x"},
    )
    assert response.status_code == 302
    row = AccessEndDate.objects.get(op_user=person)
    assert row.sponsor == team_lead
    _run_daily(account, django_capture_on_commit_callbacks)

    row.refresh_from_db()
    assert row.removal_plan is not None and row.removal_plan.proposed_by == team_lead
    touched = {a.vault.name for a in row.removal_plan.actions.all()}
    assert "Team Dev" in touched  # decoy: the lead's own vault is rightly in the plan
    outside = sorted(name for name in touched if not scope.is_in_scope(team_lead, Vault.objects.get(name=name)))
    assert outside == [], f"revocations proposed in the lead's name on vaults they do not own: {outside}"


def test_a_lead_cannot_choose_a_vault_they_do_not_own_for_a_vault_scoped_end_date(team_lead, client_for) -> None:
    """Same hole, asked directly: the form offers every vault of the account, and a lead may
    schedule the removal of a grant in a vault owned by another lead."""
    account = make_account(name="acme")
    make_vault(account=account, name="Team Dev", owner=team_lead)
    other = make_vault(account=account, name="Other Team", owner=None)
    person = make_op_user(account=account)
    grant(vault=other, user=person)

    client_for(team_lead).post(
        reverse("access_expiry:set", args=[person.pk]),
        {"ends_on": timezone.localdate().isoformat(), "scope": "vaults", "vaults": [other.pk], "reason": "x"},
    )

    assert not AccessEndDate.objects.filter(op_user=person).exists(), (
        "a team lead scheduled the automatic revocation of a grant in a vault they do not own"
    )


def test_a_system_proposed_removal_always_needs_two_humans_even_when_the_policy_waives_the_second_approver(
    approver, django_capture_on_commit_callbacks
) -> None:
    """A guest's default end date is proposed by the inactive expiry identity: no human proposed
    it. daily.py relies on "revocations need two approvers under the default policy"; when an
    admin turns `risky_actions_need_second_approver` off (a documented, ordinary setting), one
    approver alone turns a machine proposal into a write to 1Password: one human, not two."""
    account = make_account(name="acme")
    vault = make_vault(account=account, name="Partners")
    Policy.objects.create(vault=vault, risky_actions_need_second_approver=False)
    guest = make_op_user(account=account, user_type="GUEST")
    grant(vault=vault, user=guest)
    AccessEndDate.objects.create(account=account, op_user=guest, covers_all=True, is_default=True,
                                 ends_on=timezone.localdate() - datetime.timedelta(days=1))  # fmt: skip
    _run_daily(account, django_capture_on_commit_callbacks)

    row = AccessEndDate.objects.get(op_user=guest)
    assert row.removal_plan is not None and row.removal_plan.proposed_by.username == daily.EXPIRY_USERNAME
    [action] = row.removal_plan.actions.all()
    approved = approve_action(action=action, approver=approver)
    assert approved.status == ProposedAction.Status.PROPOSED, (
        "one approver alone approved a revocation nobody proposed: no second human"
    )


def test_a_lead_cannot_clear_an_end_date_someone_else_sponsors_on_a_vault_they_do_not_own(
    admin_user, team_lead, client_for
) -> None:
    """An admin scheduled the end of a contractor's access to "Finance Production". Any team
    lead, who owns neither the vault nor the end date, can clear it, and the automatic removal
    never comes: the end-date routes check the role, never the object."""
    account = make_account(name="acme")
    make_vault(account=account, name="Team Dev", owner=team_lead)
    finance = make_vault(account=account, name="Finance Production", owner=admin_user)
    person = make_op_user(account=account)
    grant(vault=finance, user=person)
    row = AccessEndDate.objects.create(account=account, op_user=person, covers_all=False, sponsor=admin_user,
                                       ends_on=timezone.localdate() + datetime.timedelta(days=3))  # fmt: skip
    row.vaults.set([finance])

    client_for(team_lead).post(reverse("access_expiry:clear", args=[row.pk]))

    row.refresh_from_db()
    assert row.status == AccessEndDate.Status.SCHEDULED, "a lead cleared another sponsor's end date on a foreign vault"


def test_one_lead_cannot_cancel_the_overdue_case_of_a_leaver_1password_already_removed(team_lead, client_for) -> None:
    """The sync opened a case because the person was deleted in 1Password; it is past its SLA.
    Any team lead (no ownership check, no second person) cancels it with "the person stays",
    which is false, and the report then counts it "Cancelled", not a missed SLA
    (compliance/reports/offboarding_evidence.py): one person turns a breach into a clean line."""
    from vaults.offboarding.models import OffboardingCase

    account = make_account(name="acme")
    person = make_op_user(account=account, name="Lee Leaver", state="DELETED")
    person.removed_at = timezone.now() - datetime.timedelta(days=20)
    person.save(update_fields=["removed_at"])
    case = OffboardingCase.objects.create(
        account=account, op_user=person, email=person.email, name=person.name,
        reason=OffboardingCase.Reason.BECAME_INACTIVE, leave_date=timezone.localdate() - datetime.timedelta(days=20),
        due_date=timezone.localdate() - datetime.timedelta(days=13), lookback_days=90,
        opened_at=timezone.now() - datetime.timedelta(days=20),
    )  # fmt: skip

    client_for(team_lead).post(reverse("offboarding:cancel", args=[case.pk]), {"note": "the person stays"})

    case.refresh_from_db()
    assert case.status == OffboardingCase.Status.OPEN, (
        "one lead cancelled the overdue case of a person 1Password removed"
    )


def test_after_a_lead_creates_the_actions_in_their_vaults_an_admin_can_create_the_rest(team_lead, admin_user) -> None:
    """offboarding/actions.py: "A team lead creates actions only in vaults they own; the rest is
    named in the result so an admin picks it up." The admin cannot: the case now has a plan, and
    "Create actions" refuses any second plan, so the leaver's grant on the vault no lead owns is
    never proposed through the offboarding flow (the case stays blocked by it, or the admin works
    around the case)."""
    from vaults.offboarding import actions, cases
    from vaults.offboarding.models import OffboardingCase

    account = make_account(name="acme")
    own = make_vault(account=account, name="Team Dev", owner=team_lead)
    foreign = make_vault(account=account, name="Finance Production")
    person = make_op_user(account=account, name="Lee Leaver")
    grant(vault=own, user=person)
    grant(vault=foreign, user=person)
    case = cases.open_case(person, leave_date=timezone.localdate(), reason=OffboardingCase.Reason.MARKED_LEAVING)

    first = actions.create_actions(case=case, user=team_lead)
    assert [a.vault.name for a in first.plan.actions.all()] == ["Team Dev"]  # decoy: the lead's part is right
    assert any("Finance Production" in note for note in first.skipped)

    try:
        second = actions.create_actions(case=case, user=admin_user)
    except cases.CaseRefused as refused:
        pytest.fail(f"the admin cannot create the actions the lead had to leave out: {refused}")
    assert "Finance Production" in {a.vault.name for a in second.plan.actions.all()}
