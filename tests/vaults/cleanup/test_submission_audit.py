"""Every path that submits a cleanup plan writes exactly one "cleanup.plan.submitted" entry: the
plan page, an offboarding case (page or domain call), the access removals proposed for a person;
a page's entry carries the client's address. A refused submission writes none."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from compliance.models import AuditLogEntry
from tests.vaults.offboarding.world import build_world
from vaults.cleanup import plans
from vaults.cleanup.models import CleanupPlan, ProposedAction
from vaults.models import Vault
from vaults.offboarding import actions, cases
from vaults.offboarding.models import OffboardingCase
from vaults.offboarding.removals import propose_access_removals

from ..factories import make_account, make_item, make_vault
from .conftest import draft_plan

pytestmark = pytest.mark.django_db
CLIENT_ADDRESS = "198.51.100.7"


def _submissions(plan: CleanupPlan) -> list[AuditLogEntry]:
    return list(AuditLogEntry.objects.filter(action="cleanup.plan.submitted", target_id=str(plan.pk)))


def _client(user, address: str = CLIENT_ADDRESS) -> Client:
    client = Client(REMOTE_ADDR=address)
    client.force_login(user)
    return client


def _draft(proposer) -> CleanupPlan:
    vault = make_vault(
        account=make_account(name="Acme"), name="Shared Engineering", classification=Vault.Classification.SHARED
    )
    item = make_item(vault=vault, title="Password")
    spec = plans.ActionSpec(ProposedAction.Kind.RENAME_ITEM, vault, item=item, params={"title": "Jira Shared Login"})
    return draft_plan(account=vault.account, proposer=proposer, specs=[spec])


def test_the_plan_page_writes_one_submission_entry_with_the_client_address(admin_user) -> None:
    plan = _draft(admin_user)
    client = _client(admin_user)

    client.post(reverse("cleanup:submit", args=[plan.pk]))
    client.post(reverse("cleanup:submit", args=[plan.pk]))  # decoy: already submitted, refused

    [entry] = _submissions(plan)
    assert entry.actor == admin_user and entry.ip_address == CLIENT_ADDRESS
    assert entry.details == {"actions": 1}


def test_a_refused_submission_writes_no_entry(admin_user, team_lead) -> None:
    plan = _draft(admin_user)

    with pytest.raises(plans.PlanError):
        plans.submit_plan(plan=plan, user=team_lead)  # decoy: only the proposer submits

    assert _submissions(plan) == []


def test_offboarding_create_actions_in_the_domain_writes_one_submission_entry(admin_user) -> None:
    w = build_world()
    case = cases.open_case(w.lena, leave_date=w.now.date(), reason=OffboardingCase.Reason.MARKED_LEAVING)

    plan = actions.create_actions(case=case, user=admin_user).plan

    [entry] = _submissions(plan)
    assert entry.actor == admin_user and entry.ip_address is None
    assert entry.details == {"actions": plan.actions.count()}


def test_offboarding_create_actions_on_the_page_writes_one_submission_entry_with_the_address(admin_user) -> None:
    w = build_world()
    case = cases.open_case(w.lena, leave_date=w.now.date(), reason=OffboardingCase.Reason.MARKED_LEAVING)

    response = _client(admin_user).post(f"/offboarding/{case.pk}/actions/")

    case.refresh_from_db()
    assert response.status_code == 302 and case.plan is not None
    [entry] = _submissions(case.plan)
    assert entry.actor == admin_user and entry.ip_address == CLIENT_ADDRESS
    created = AuditLogEntry.objects.get(action="offboarding.plan_created")
    assert created.ip_address == CLIENT_ADDRESS


def test_access_removals_proposed_for_a_person_write_one_submission_entry(admin_user) -> None:
    w = build_world()

    plan = propose_access_removals(w.lena, proposed_by=admin_user, reason="contract ended")

    assert plan is not None
    [entry] = _submissions(plan)
    assert entry.actor == admin_user and entry.actor_label == admin_user.get_username()
