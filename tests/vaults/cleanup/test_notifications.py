"""Cleanup e-mails: approvers on submission, the proposer on decision and execution; once each."""

from __future__ import annotations

import pytest
from django.core import mail

from compliance.models import AuditLogEntry
from vaults.cleanup import approval, execute, plans
from vaults.cleanup.models import CleanupPlan, NotificationSent, ProposedAction
from vaults.models import Vault

from ..factories import make_account, make_item, make_secret, make_vault
from .conftest import draft_plan

Kind = ProposedAction.Kind
Status = ProposedAction.Status


@pytest.fixture
def item(db):
    account = make_account(name="Acme")
    vault = make_vault(account=account, name="Shared Engineering", classification=Vault.Classification.SHARED)
    return make_item(vault=vault, title="Password")


@pytest.fixture
def people(team_lead, approver, second_approver, viewer, compliance_officer):
    team_lead.email = "lead@example.com"
    approver.email = "april@example.com"
    second_approver.email = ""  # an approver without an address: skipped, not failed
    viewer.email = "viewer@example.com"  # decoy: has an address, may not approve
    compliance_officer.email = "carol@example.com"  # decoy: may not approve cleanup either
    for person in (team_lead, approver, second_approver, viewer, compliance_officer):
        person.save()
    return team_lead


def _rename(item) -> plans.ActionSpec:
    return plans.ActionSpec(Kind.RENAME_ITEM, item.vault, item=item, params={"title": "Jira Shared Login"})


def _submit(item, proposer, capture) -> CleanupPlan:
    plan = draft_plan(account=item.vault.account, proposer=proposer, specs=[_rename(item)], title="Tidy Jira")
    with capture(execute=True):
        return plans.submit_plan(plan=plan, user=proposer)


def test_approvers_get_a_mail_on_submission_and_the_proposer_does_not(
    item, people, approver, django_capture_on_commit_callbacks
):
    _submit(item, people, django_capture_on_commit_callbacks)

    assert [m.to for m in mail.outbox] == [["april@example.com"]]
    message = mail.outbox[0]
    assert "Tidy Jira" in message.subject and "Shared Engineering" in message.body
    assert "/cleanup/" in message.body
    assert AuditLogEntry.objects.filter(action="cleanup.notification.sent").count() == 1
    assert AuditLogEntry.objects.filter(action="cleanup.notification.no_address").count() == 1


def test_no_mail_before_the_submission_commits(item, people, django_capture_on_commit_callbacks):
    plan = draft_plan(account=item.vault.account, proposer=people, specs=[_rename(item)])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        plans.submit_plan(plan=plan, user=people)

    assert mail.outbox == [] and len(callbacks) == 1


def test_a_proposer_who_may_approve_is_still_not_told_to_approve_own_plan(
    item, admin_user, approver, people, django_capture_on_commit_callbacks
):
    admin_user.email = "ada@example.com"
    admin_user.save()

    _submit(item, admin_user, django_capture_on_commit_callbacks)

    assert ["ada@example.com"] not in [m.to for m in mail.outbox]
    assert ["april@example.com"] in [m.to for m in mail.outbox]


def test_a_second_submit_or_a_replayed_commit_sends_nothing_more(item, people, django_capture_on_commit_callbacks):
    plan = _submit(item, people, django_capture_on_commit_callbacks)
    with pytest.raises(plans.PlanError):
        plans.submit_plan(plan=plan, user=people)  # already submitted
    with django_capture_on_commit_callbacks(execute=True):
        from vaults.cleanup import notifications

        notifications.plan_submitted(plan)  # as a retried task would

    assert len(mail.outbox) == 1
    assert NotificationSent.objects.filter(plan=plan, event="plan.submitted").count() == 1


def test_the_proposer_is_told_of_the_approval_and_who_executes(
    item, people, approver, django_capture_on_commit_callbacks
):
    plan = _submit(item, people, django_capture_on_commit_callbacks)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        approval.approve_plan(plan=plan, approver=approver)

    assert [m.to for m in mail.outbox] == [["lead@example.com"]]
    assert "approved" in mail.outbox[0].subject
    assert "cleanup worker" in mail.outbox[0].body or "manual step" in mail.outbox[0].body


def test_a_partial_approval_of_a_two_approver_action_tells_nobody_yet(
    item, people, approver, django_capture_on_commit_callbacks
):
    plan = draft_plan(account=item.vault.account, proposer=people, specs=[_rename(item), _rename(item)])
    with django_capture_on_commit_callbacks(execute=True):
        plans.submit_plan(plan=plan, user=people)
    mail.outbox.clear()
    first = plan.actions.order_by("pk")[0]

    with django_capture_on_commit_callbacks(execute=True):
        approval.approve_action(action=first, approver=approver)  # the other action still waits

    assert mail.outbox == []


def test_the_proposer_is_told_when_execution_leaves_manual_steps_and_a_retry_sends_nothing(
    item, people, approver, django_capture_on_commit_callbacks
):
    plan = _submit(item, people, django_capture_on_commit_callbacks)
    plan.actions.update(identity=ProposedAction.Identity.MANUAL)
    with django_capture_on_commit_callbacks(execute=True):
        approval.approve_plan(plan=plan, approver=approver)
    assert "manual step" in mail.outbox[-1].body
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        run = execute.execute_plan(plan_id=plan.pk)
        execute.execute_plan(plan_id=plan.pk)  # a redelivered task: nothing left to run

    assert run.manual and [m.to for m in mail.outbox] == [["lead@example.com"]]
    assert "manual steps waiting" in mail.outbox[0].subject
    assert "1 manual step waiting for an administrator" in mail.outbox[0].body


def test_a_failed_execution_is_mailed_to_the_proposer(
    item, people, approver, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.delenv(item.vault.account.token_env, raising=False)  # no identity: the action fails without op
    plan = _submit(item, people, django_capture_on_commit_callbacks)
    plan.actions.update(identity=ProposedAction.Identity.SERVICE_ACCOUNT)
    with django_capture_on_commit_callbacks(execute=True):
        approval.approve_plan(plan=plan, approver=approver)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        run = execute.execute_plan(plan_id=plan.pk)

    assert run.failed
    assert [m.to for m in mail.outbox] == [["lead@example.com"]]
    assert "(failed)" in mail.outbox[0].subject and "1 failed" in mail.outbox[0].body


def test_mails_carry_no_fingerprint(item, people, approver, django_capture_on_commit_callbacks):
    make_secret(item=item, fingerprint="f" * 64)
    _submit(item, people, django_capture_on_commit_callbacks)

    assert mail.outbox and all("f" * 64 not in m.body and "f" * 64 not in m.subject for m in mail.outbox)
