"""Issue #16 findings 2 and 4: a lead's plan leaves out vaults they do not own; the rest is
proposed by a further "Create actions" and blocks completion until then. And one person cannot
cancel the case of someone 1Password already removed or suspended."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from compliance.models import AuditLogEntry
from tests.security.planted import bearer_for
from tests.vaults import factories as f
from vaults.cleanup.models import ProposedAction
from vaults.models import Vault
from vaults.offboarding import actions, cases, completion
from vaults.offboarding.models import OffboardingCase

pytestmark = pytest.mark.django_db
COPY = ["view_items", "view_and_copy_passwords"]


def _leaver_in_two_vaults(team_lead):
    account = f.make_account(name="acme")
    own = f.make_vault(account=account, name="Team Dev", owner=team_lead)
    foreign = f.make_vault(account=account, name="Finance Production", classification=Vault.Classification.PRODUCTION)
    f.make_secret(item=f.make_item(vault=own, title="Dev DB"), field_id="password")
    f.make_secret(item=f.make_item(vault=foreign, title="Bank API Key"), field_id="password")
    person = f.make_op_user(account=account, name="Lee Leaver")
    f.grant(vault=own, user=person, permissions=COPY)
    f.grant(vault=foreign, user=person, permissions=COPY)
    return person, cases.open_case(person, leave_date=timezone.localdate(), reason=OffboardingCase.Reason.MARKED_LEAVING)


def test_the_part_a_lead_leaves_out_blocks_the_case_until_an_admin_proposes_it(team_lead, admin_user, client_for):
    _, case = _leaver_in_two_vaults(team_lead)
    first = actions.create_actions(case=case, user=team_lead)
    case.refresh_from_db()
    assert {(a.kind, a.vault.name) for a in first.plan.actions.all()} == {
        ("rotate_secret", "Team Dev"), ("revoke_user", "Team Dev")}
    assert "1 secret to rotate without an action yet: create the remaining actions." in completion.blockers(case)
    page = client_for(admin_user).get(reverse("offboarding:detail", args=[case.pk])).content.decode()
    assert "Create the remaining 2 actions" in page

    rest = actions.create_actions(case=case, user=admin_user)

    assert {(a.kind, a.vault.name) for a in rest.plan.actions.all()} == {
        ("rotate_secret", "Finance Production"), ("revoke_user", "Finance Production")}  # nothing proposed twice
    case.refresh_from_db()
    assert case.plan == first.plan and list(case.further_plans.all()) == [rest.plan]
    assert not any("without an action" in b for b in completion.blockers(case))
    assert sum("Rotate “Bank API Key”" in b for b in completion.blockers(case)) == 1  # the new plan's action blocks
    with pytest.raises(cases.CaseRefused, match="already created"):
        actions.create_actions(case=case, user=admin_user)  # decoy: nothing left, no third plan
    assert ProposedAction.objects.filter(plan__in=case.plans()).count() == 4
    page = client_for(admin_user).get(reverse("offboarding:detail", args=[case.pk])).content.decode()
    assert "Create the remaining" not in page
    assert reverse("cleanup:plan", args=[rest.plan.pk]) in page  # the further plan is linked from the case
    # The API lists both plans too, on the case, the case list and the plan document.
    api = Client(headers=bearer_for(admin_user))
    expected = [first.plan.pk, rest.plan.pk]
    assert [p["id"] for p in api.get(f"/api/v1/offboarding/{case.pk}").json()["cleanup_plans"]] == expected
    [listed] = api.get("/api/v1/offboarding?status=open").json()["results"]
    assert [p["id"] for p in listed["cleanup_plans"]] == expected
    document = api.get(f"/api/v1/offboarding/{case.pk}/plan").json()
    assert [p["id"] for p in document["case"]["cleanup_plans"]] == expected


def test_a_lead_cannot_cancel_a_suspended_persons_case_but_can_cancel_for_an_active_one(team_lead, client_for):
    account = f.make_account(name="acme3")
    gone = f.make_op_user(account=account, name="Sam Suspended", state="SUSPENDED")
    stays = f.make_op_user(account=account, name="Pat Stays")
    gone_case = cases.open_case(gone, leave_date=timezone.localdate(), reason=OffboardingCase.Reason.BECAME_INACTIVE)
    stays_case = cases.open_case(stays, leave_date=timezone.localdate(), reason=OffboardingCase.Reason.MARKED_LEAVING)
    client = client_for(team_lead)

    page = client.get(reverse("offboarding:detail", args=[gone_case.pk])).content.decode()
    assert "Cancel case" not in page
    client.post(reverse("offboarding:cancel", args=[gone_case.pk]), {"note": "the person stays"})
    client.post(reverse("offboarding:cancel", args=[stays_case.pk]), {"note": "contract extended"})

    gone_case.refresh_from_db()
    stays_case.refresh_from_db()
    assert gone_case.status == OffboardingCase.Status.OPEN
    assert stays_case.status == OffboardingCase.Status.CANCELLED  # decoy: marked as leaving, still active
    refused = AuditLogEntry.objects.get(action="offboarding.cancel_refused")
    assert refused.target_id == str(gone_case.pk) and refused.details["state"] == "SUSPENDED"
    assert AuditLogEntry.objects.filter(action="offboarding.case_cancelled", target_id=str(stays_case.pk)).exists()
