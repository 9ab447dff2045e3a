"""Withdrawing a removal goes through the cleanup app's rejection path (one place): the plan's
status, the note on each action and the proposer's notice, with no approver's decision invented."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from tests.vaults.access_expiry.conftest import end_date
from tests.vaults.factories import grant, make_op_user, make_vault
from vaults.access_expiry import daily, schedule
from vaults.cleanup.models import Approval, CleanupPlan, NotificationSent, ProposedAction

pytestmark = pytest.mark.django_db


@pytest.fixture
def ended(account, team_lead, django_capture_on_commit_callbacks):
    """A contractor whose end date passed, with the removal proposed by their sponsor (a lead
    owning the vault, so the plan is theirs)."""
    team_lead.email = "tom@example.com"
    team_lead.save()
    vault = make_vault(account=account, name="Team Dev", owner=team_lead)
    person = make_op_user(account=account, name="Casey Contractor")
    grant(vault=vault, user=person)
    row = end_date(person, days=-1, sponsor=team_lead)
    with django_capture_on_commit_callbacks(execute=True):
        daily.run_access_expiry(account=account)
    row.refresh_from_db()
    assert row.removal_plan is not None and row.removal_plan.proposed_by == team_lead
    mail.outbox.clear()
    return row


def _move(row, days: int, team_lead, capture) -> None:
    with capture(execute=True):
        schedule.set_end_date(op_user=row.op_user, ends_on=timezone.localdate() + datetime.timedelta(days=days),
                              vaults=None, sponsor=team_lead, actor=team_lead, reason="contract extended")  # fmt: skip


def test_an_extension_rejects_the_plan_and_tells_its_proposer(ended, team_lead, django_capture_on_commit_callbacks):
    plan = ended.removal_plan

    _move(ended, 30, team_lead, django_capture_on_commit_callbacks)

    plan.refresh_from_db()
    action = plan.actions.get()
    assert plan.status == CleanupPlan.Status.REJECTED and action.status == ProposedAction.Status.REJECTED
    assert action.error.startswith("Withdrawn on ")
    [notice] = mail.outbox
    assert notice.to == ["tom@example.com"] and "Cleanup plan rejected" in notice.subject
    assert NotificationSent.objects.filter(plan=plan, event="plan.rejected").count() == 1
    assert not Approval.objects.filter(action=action).exists()  # nobody decided: no approver is invented


def test_moving_the_date_to_another_past_day_withdraws_nothing_and_tells_nobody(
    ended, team_lead, django_capture_on_commit_callbacks
):
    _move(ended, -3, team_lead, django_capture_on_commit_callbacks)

    ended.refresh_from_db()
    assert ended.removal_plan.status == CleanupPlan.Status.PROPOSED
    assert mail.outbox == [] and not NotificationSent.objects.filter(event="plan.rejected").exists()
