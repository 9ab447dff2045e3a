"""The daily end-date job: a reminder a week before (once, to the sponsor), the removal proposed
at the end behind the approval gate (the sponsor proposes, someone else approves), the leaver
flow for whole access, REMOVED once a sync shows the access gone; a second run does nothing."""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import timezone

from compliance.models import AuditLogEntry
from tests.vaults.access_expiry.conftest import end_date
from tests.vaults.factories import grant, make_op_group, make_op_user
from vaults.access_expiry import daily
from vaults.access_expiry.models import AccessEndDate, ExpiryMail
from vaults.cleanup.approval import ApprovalRefused, approve_action
from vaults.cleanup.models import CleanupPlan, ProposedAction
from vaults.models import VaultGrant
from vaults.offboarding.models import OffboardingCase

pytestmark = pytest.mark.django_db


@pytest.fixture
def run_daily(django_capture_on_commit_callbacks):
    """One daily run; mails leave after commit, so its on-commit callbacks run as a commit would."""

    def run(account):
        with django_capture_on_commit_callbacks(execute=True):
            return daily.run_access_expiry(account=account)

    return run


def _reminders() -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if "ends on" in m.subject]


def test_the_sponsor_is_reminded_once_a_week_before(account, prod_vault, team_lead, run_daily) -> None:
    team_lead.email = "tom@example.com"
    team_lead.save()
    contractor = make_op_user(account=account, name="Casey Contractor", email="casey@vendor.example")
    grant(vault=prod_vault, user=contractor)
    soon = end_date(contractor, days=7, sponsor=team_lead)
    later = make_op_user(account=account, name="Later Person")
    grant(vault=prod_vault, user=later)
    end_date(later, days=8, sponsor=team_lead)  # decoy: eight days out

    first = run_daily(account)
    second = run_daily(account)

    [reminder] = _reminders()
    assert reminder.to == ["tom@example.com"]
    assert "Casey Contractor" in reminder.subject and soon.ends_on.isoformat() in reminder.body
    assert "Payments Production" not in reminder.body  # whole access: "all their 1Password access"
    assert "all their 1Password access" in reminder.body and "approver other than the proposer" in reminder.body
    assert (first.reminders, second.reminders) == (1, 0)
    assert ExpiryMail.objects.filter(event="reminder").count() == 1
    soon.refresh_from_db()
    assert soon.reminded_at is not None


def test_without_a_sponsor_the_vault_owner_is_reminded(account, prod_vault, team_lead, admin_user, run_daily) -> None:
    team_lead.email, admin_user.email = "tom@example.com", "ada@example.com"
    team_lead.save()
    admin_user.save()
    prod_vault.owner = team_lead
    prod_vault.save()
    guest = make_op_user(account=account, user_type="GUEST")
    grant(vault=prod_vault, user=guest)
    end_date(guest, days=3, is_default=True)

    run_daily(account)

    assert [m.to for m in _reminders()] == [["tom@example.com"]]


def test_at_the_end_the_sponsor_proposes_the_removal_and_cannot_approve_it(
    account, prod_vault, dev_vault, admin_user, approver, run_daily
) -> None:
    team_lead = admin_user  # an admin sponsor could approve cleanup, were it not their own proposal
    contractor = make_op_user(account=account, name="Casey Contractor")
    grant(vault=prod_vault, user=contractor, permissions=["view_items", "view_and_copy_passwords"])
    grant(vault=dev_vault, user=contractor)
    row = end_date(contractor, days=0, sponsor=team_lead, reason="Contract ACME-42")

    summary = run_daily(account)
    again = run_daily(account)

    row.refresh_from_db()
    plan = row.removal_plan
    assert plan is not None and plan.proposed_by == team_lead and plan.status == CleanupPlan.Status.PROPOSED
    actions = list(plan.actions.order_by("vault__name"))
    assert [(a.kind, a.vault, a.op_user) for a in actions] == [
        (ProposedAction.Kind.REVOKE_USER, dev_vault, contractor),
        (ProposedAction.Kind.REVOKE_USER, prod_vault, contractor),
    ]
    assert row.status == AccessEndDate.Status.ENDED and (summary.removals_proposed, again.removals_proposed) == (1, 0)
    assert CleanupPlan.objects.count() == 1
    with pytest.raises(ApprovalRefused, match="two-person rule"):
        approve_action(action=actions[0], approver=team_lead)
    approved = approve_action(action=actions[0], approver=approver)
    assert approved.approvals.count() == 1
    # Nothing changed in 1Password: the grants are still there until a worker executes an approved action.
    assert VaultGrant.objects.filter(user=contractor).count() == 2
    [case] = OffboardingCase.objects.filter(op_user=contractor)
    assert case.leave_date == row.ends_on and case.opened_by is None  # the contract's end, not the sponsor
    assert case.reason == OffboardingCase.Reason.ACCESS_ENDED
    assert AuditLogEntry.objects.filter(action="access_expiry.removal_proposed").count() == 1


def test_a_guest_default_removal_is_proposed_by_the_expiry_identity_so_every_approver_is_a_second_person(
    account, prod_vault, approver, run_daily
) -> None:
    guest = make_op_user(account=account, user_type="GUEST")
    grant(vault=prod_vault, user=guest)
    row = end_date(guest, days=-1, is_default=True)

    run_daily(account)

    row.refresh_from_db()
    proposer = row.removal_plan.proposed_by
    assert proposer.username == daily.EXPIRY_USERNAME and not proposer.is_active and not proposer.has_usable_password()
    assert not proposer.groups.exists()
    [action] = row.removal_plan.actions.all()
    approve_action(action=action, approver=approver)


def test_vault_scoped_end_revokes_only_that_vault_and_opens_no_leaver_case(
    account, prod_vault, dev_vault, team_lead, run_daily
) -> None:
    prod_vault.owner = team_lead  # a lead's end date proposes in their name only on vaults they own
    prod_vault.save(update_fields=["owner"])
    contractor = make_op_user(account=account)
    grant(vault=prod_vault, user=contractor)
    grant(vault=dev_vault, user=contractor)
    row = end_date(contractor, days=-1, vaults=[prod_vault], sponsor=team_lead)

    run_daily(account)

    row.refresh_from_db()
    assert [a.vault for a in row.removal_plan.actions.all()] == [prod_vault]
    assert not OffboardingCase.objects.filter(op_user=contractor).exists()


def test_whole_access_through_a_group_proposes_leaving_the_group_outside_the_leads_vaults_by_the_expiry_identity(
    account, prod_vault, team_lead, run_daily
) -> None:
    contractor = make_op_user(account=account)
    group = make_op_group(account=account, members=[contractor])
    grant(vault=prod_vault, group=group)  # the lead does not own the vault the group reaches
    row = end_date(contractor, days=-1, sponsor=team_lead)

    run_daily(account)

    row.refresh_from_db()
    assert row.removal_plan is None and row.status == AccessEndDate.Status.ENDED
    [action] = row.outside_scope_plan.actions.all()
    assert (action.kind, action.op_user, action.op_group, action.vault) == (
        ProposedAction.Kind.REMOVE_GROUP_MEMBER,
        contractor,
        group,
        None,
    )
    assert row.outside_scope_plan.proposed_by == daily.expiry_identity()
    # The vault counted is the one the group reaches.
    assert "1 vault(s) and 1 group(s) outside the sponsor's" in row.removal_note


def test_whole_access_through_a_group_wholly_in_the_leads_vaults_is_proposed_by_the_expiry_identity(
    account, prod_vault, team_lead, run_daily
) -> None:
    """A group may reach vaults OpenClaw does not see, so no lead removes people from one: the
    removal goes to the expiry identity's plan (two human approvers)."""
    prod_vault.owner = team_lead
    prod_vault.save(update_fields=["owner"])
    contractor = make_op_user(account=account)
    group = make_op_group(account=account, members=[contractor])
    grant(vault=prod_vault, group=group)
    row = end_date(contractor, days=-1, sponsor=team_lead)

    run_daily(account)

    row.refresh_from_db()
    assert row.removal_plan is None and row.outside_scope_plan.proposed_by == daily.expiry_identity()
    assert [(a.kind, a.op_group) for a in row.outside_scope_plan.actions.all()] == [
        (ProposedAction.Kind.REMOVE_GROUP_MEMBER, group)
    ]


def test_a_per_vault_end_date_never_removes_a_group_membership(
    account, prod_vault, dev_vault, team_lead, run_daily
) -> None:
    prod_vault.owner = team_lead
    prod_vault.save(update_fields=["owner"])
    contractor = make_op_user(account=account)
    group = make_op_group(account=account, members=[contractor])
    grant(vault=prod_vault, group=group)
    grant(vault=dev_vault, group=group)  # leaving the group would take this vault too
    row = end_date(contractor, days=-1, vaults=[prod_vault], sponsor=team_lead)

    run_daily(account)

    row.refresh_from_db()
    assert row.removal_plan is None and row.outside_scope_plan is None
    assert not ProposedAction.objects.filter(kind=ProposedAction.Kind.REMOVE_GROUP_MEMBER).exists()
    assert row.removal_note == daily.NO_GROUP_PER_VAULT and "per-vault end date" in row.removal_note
    assert row.status == AccessEndDate.Status.ENDED


def test_an_end_date_whose_access_is_gone_becomes_removed(account, prod_vault, team_lead, run_daily) -> None:
    contractor = make_op_user(account=account)
    grant(vault=prod_vault, user=contractor)
    row = end_date(contractor, days=-1, sponsor=team_lead)
    run_daily(account)

    VaultGrant.objects.filter(user=contractor).delete()  # the sync after the approved revocation
    summary = run_daily(account)

    row.refresh_from_db()
    assert row.status == AccessEndDate.Status.REMOVED and row.removed_at is not None and summary.removed == 1


def test_a_removed_person_past_the_date_needs_no_removal(account, prod_vault, team_lead, run_daily) -> None:
    gone = make_op_user(account=account, removed_at=timezone.now())
    grant(vault=prod_vault, user=gone)
    row = end_date(gone, days=-1, sponsor=team_lead)

    run_daily(account)

    row.refresh_from_db()
    assert row.status == AccessEndDate.Status.REMOVED and not CleanupPlan.objects.exists()
