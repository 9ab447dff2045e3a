"""The two-person rule, through the pages and the domain functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest
from django.urls import reverse

from compliance.models import AuditLogEntry
from vaults.cleanup import approval, plans
from vaults.cleanup.models import CleanupPlan, ProposedAction
from vaults.findings.models import Finding, Policy
from vaults.models import Vault

from ..factories import grant, make_account, make_item, make_op_user, make_vault
from .conftest import approved_plan, draft_plan

Kind = ProposedAction.Kind
Status = ProposedAction.Status


@pytest.fixture
def shared_item(db):
    account = make_account(name="Acme")
    vault = make_vault(account=account, name="Shared Engineering", classification=Vault.Classification.SHARED)
    return make_item(vault=vault, title="Password")


def _rename(item) -> plans.ActionSpec:
    return plans.ActionSpec(Kind.RENAME_ITEM, item.vault, item=item, params={"title": "Jira Shared Login"})


def _submitted(item, proposer) -> CleanupPlan:
    plan = draft_plan(account=item.vault.account, proposer=proposer, specs=[_rename(item)])
    return plans.submit_plan(plan=plan, user=proposer)


def test_proposer_cannot_approve_own_plan_and_the_post_is_refused(shared_item, admin_user, client_for):
    plan = _submitted(shared_item, admin_user)  # an admin holds both propose and approve
    action = plan.actions.get()
    client = client_for(admin_user)

    page = client.get(reverse("cleanup:plan", args=[plan.pk])).content.decode()
    response = client.post(reverse("cleanup:action_approve", args=[action.pk]))
    plan_response = client.post(reverse("cleanup:plan_approve", args=[plan.pk]))

    assert reverse("cleanup:action_approve", args=[action.pk]) not in page
    assert reverse("cleanup:plan_approve", args=[plan.pk]) not in page
    assert response.status_code == 302 and plan_response.status_code == 302
    action.refresh_from_db()
    assert action.status == Status.PROPOSED
    assert not action.approvals.exists()
    assert AuditLogEntry.objects.filter(action="cleanup.action.decision_refused", actor=admin_user).exists()


def test_another_approver_sees_the_buttons_and_approves(shared_item, team_lead, approver, client_for):
    plan = _submitted(shared_item, team_lead)
    action = plan.actions.get()
    client = client_for(approver)

    page = client.get(reverse("cleanup:plan", args=[plan.pk])).content.decode()
    client.post(reverse("cleanup:action_approve", args=[action.pk]), {"comment": "fine"})

    assert reverse("cleanup:action_approve", args=[action.pk]) in page
    action.refresh_from_db()
    assert action.status == Status.APPROVED
    assert action.approvals.get().comment == "fine"


def test_auditor_cannot_propose_or_approve(shared_item, team_lead, auditor, client_for):
    plan = _submitted(shared_item, team_lead)
    action = plan.actions.get()
    client = client_for(auditor)

    assert client.get(reverse("cleanup:plan", args=[plan.pk])).status_code == 200
    assert client.get(reverse("cleanup:propose")).status_code == 403
    assert client.post(reverse("cleanup:generate"), {"account": plan.account_id}).status_code == 403
    assert client.post(reverse("cleanup:action_approve", args=[action.pk])).status_code == 403
    assert client.post(reverse("cleanup:plan_approve", args=[plan.pk])).status_code == 403
    assert client.post(reverse("cleanup:execute", args=[plan.pk])).status_code == 403
    action.refresh_from_db()
    assert action.status == Status.PROPOSED


def test_a_team_lead_cannot_approve_another_leads_plan(shared_item, team_lead, make_user, client_for):
    from openclaw_web.roles import Role

    other_lead = make_user("lena_lead", Role.TEAM_LEAD)
    plan = _submitted(shared_item, team_lead)

    response = client_for(other_lead).post(reverse("cleanup:plan_approve", args=[plan.pk]))

    assert response.status_code == 403


def test_risky_action_needs_a_second_distinct_approver(db, team_lead, approver, second_approver):
    account = make_account(name="Acme")
    vault = make_vault(account=account, name="Payments Production", classification=Vault.Classification.PRODUCTION)
    item = make_item(vault=vault, title="Password")
    plan = _submitted(item, team_lead)
    action = plan.actions.get()

    approval.approve_action(action=action, approver=approver)
    action.refresh_from_db()
    assert action.status == Status.PROPOSED
    with pytest.raises(approval.ApprovalRefused, match="different person"):
        approval.approve_action(action=action, approver=approver)

    approval.approve_action(action=action, approver=second_approver)
    action.refresh_from_db()
    assert action.status == Status.APPROVED


def test_revocations_are_risky_even_outside_production(db, team_lead, approver):
    account = make_account(name="Acme")
    vault = make_vault(account=account, name="Shared", classification=Vault.Classification.SHARED)
    user = make_op_user(account=account)
    grant(vault=vault, user=user, permissions=["view_items"])
    spec = plans.ActionSpec(Kind.REVOKE_USER, vault, op_user=user, params={"permissions": ["view_items"]})
    plan = approved_plan(account=account, proposer=team_lead, approvers=[approver], specs=[spec])

    assert plan.actions.get().status == Status.PROPOSED
    assert approval.required_approvals(plan.actions.get()) == 2


def test_one_approval_suffices_for_risky_actions_when_policy_says_so(db, team_lead, approver):
    account = make_account(name="Acme")
    vault = make_vault(account=account, name="Payments Production", classification=Vault.Classification.PRODUCTION)
    Policy.objects.create(vault=vault, risky_actions_need_second_approver=False)
    plan = approved_plan(
        account=account, proposer=team_lead, approvers=[approver], specs=[_rename(make_item(vault=vault, title="Key"))]
    )

    assert plan.actions.get().status == Status.APPROVED


def test_rejecting_the_whole_plan_rejects_every_awaiting_action_and_is_audited(
    shared_item, team_lead, approver, client_for
):
    plan = draft_plan(
        account=shared_item.vault.account,
        proposer=team_lead,
        specs=[
            _rename(shared_item),
            plans.ActionSpec(
                Kind.ARCHIVE_ITEM, shared_item.vault, item=make_item(vault=shared_item.vault, title="Old")
            ),
        ],
    )
    plans.submit_plan(plan=plan, user=team_lead)

    client_for(approver).post(reverse("cleanup:plan_reject", args=[plan.pk]), {"comment": "not now"})

    plan.refresh_from_db()
    assert plan.status == CleanupPlan.Status.REJECTED
    assert set(plan.actions.values_list("status", flat=True)) == {Status.REJECTED}
    entry = AuditLogEntry.objects.get(action="cleanup.plan.rejected")
    assert entry.details["comment"] == "not now" and entry.actor == approver


def test_proposal_submission_approval_and_execution_request_are_audited(
    shared_item, team_lead, approver, client_for, django_capture_on_commit_callbacks
):
    finding = Finding.objects.create(
        account=shared_item.vault.account,
        kind=Finding.Kind.UNCLEAR_NAME,
        severity=Finding.Severity.LOW,
        key="k",
        title="Unclear name: Password",
        explanation="x",
        vault=shared_item.vault,
        item=shared_item,
        first_seen=shared_item.first_seen,
        last_seen=shared_item.first_seen,
    )
    Vault.objects.filter(pk=shared_item.vault_id).update(owner=team_lead)  # leads propose on their own vaults
    lead = client_for(team_lead)
    lead.post(reverse("cleanup:propose"), {"finding": [finding.pk]})
    plan = CleanupPlan.objects.get()
    lead.post(reverse("cleanup:submit", args=[plan.pk]))
    client_for(approver).post(reverse("cleanup:plan_approve", args=[plan.pk]))
    with django_capture_on_commit_callbacks(execute=False):
        client_for(approver).post(reverse("cleanup:execute", args=[plan.pk]))

    actions = list(
        AuditLogEntry.objects.filter(action__startswith="cleanup.")
        .order_by("seq")
        .values_list("action", "actor__username")
    )
    assert actions == [
        ("cleanup.plan.proposed", "tom_lead"),
        ("cleanup.plan.submitted", "tom_lead"),
        ("cleanup.plan.approved", "april_approver"),
        ("cleanup.plan.execution_requested", "april_approver"),
    ]


def _plan_state(plan: CleanupPlan) -> tuple[Mapping[str, object], Sequence[Mapping[str, object]]]:
    """Every stored field of the plan and of each of its actions, to compare before and after."""
    plan_row = CleanupPlan.objects.filter(pk=plan.pk).values().get()
    action_rows = list(ProposedAction.objects.filter(plan=plan).order_by("pk").values())
    return plan_row, action_rows


def test_only_the_proposer_edits_a_draft_and_a_refused_edit_leaves_it_exactly_as_it_was(
    shared_item, team_lead, admin_user, make_user, client_for
):
    from openclaw_web.roles import Role

    Vault.objects.filter(pk=shared_item.vault_id).update(owner=team_lead)  # the lead's own vault
    plan = draft_plan(account=shared_item.vault.account, proposer=team_lead, specs=[_rename(shared_item)])
    action = plan.actions.get()
    other_lead = make_user("lena_lead", Role.TEAM_LEAD)
    edit_url = reverse("cleanup:action_edit", args=[action.pk])
    before = _plan_state(plan)

    # An admin may propose on any vault, so only the proposer rule refuses them.
    by_admin = client_for(admin_user).post(edit_url, {"title": "Sneaky Shared Login"}, follow=True)
    by_other_lead = client_for(other_lead).post(edit_url, {"title": "Sneaky Shared Login"}, follow=True)

    assert by_admin.status_code == 200
    assert "Only the person who proposed the plan can change it." in by_admin.content.decode()
    assert by_other_lead.status_code in (200, 403)
    assert "Sneaky Shared Login" not in by_other_lead.content.decode()
    assert _plan_state(plan) == before
    assert not AuditLogEntry.objects.filter(action="cleanup.action.edited").exists()

    # The decoy: the same edit by the proposer goes through and shows on the plan page.
    accepted = client_for(team_lead).post(edit_url, {"title": "Jira Production Login"}, follow=True)

    assert accepted.status_code == 200
    assert "Jira Production Login" in accepted.content.decode()
    action.refresh_from_db()
    assert action.params["title"] == "Jira Production Login"
    assert AuditLogEntry.objects.filter(action="cleanup.action.edited", actor=team_lead).count() == 1


def test_nobody_edits_a_plan_once_it_is_submitted_not_even_its_proposer(shared_item, team_lead, client_for):
    Vault.objects.filter(pk=shared_item.vault_id).update(owner=team_lead)
    plan = draft_plan(account=shared_item.vault.account, proposer=team_lead, specs=[_rename(shared_item)])
    action = plan.actions.get()
    plans.submit_plan(plan=plan, user=team_lead)
    before = _plan_state(plan)

    response = client_for(team_lead).post(
        reverse("cleanup:action_edit", args=[action.pk]), {"title": "Changed After Submission"}, follow=True
    )

    assert response.status_code == 200
    assert "Only a draft plan can be changed" in response.content.decode()
    assert _plan_state(plan) == before
    assert not AuditLogEntry.objects.filter(action="cleanup.action.edited").exists()
