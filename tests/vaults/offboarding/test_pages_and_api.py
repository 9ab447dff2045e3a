"""The leavers' pages, the API and `manage.py offboarding_plan` show the same plan (one builder)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client

from compliance.models import AuditLogEntry
from tests.security.planted import bearer_for
from tests.vaults.offboarding.world import build_world
from vaults.cleanup import approval
from vaults.cleanup.models import ProposedAction
from vaults.offboarding import cases
from vaults.offboarding.models import OffboardingCase

pytestmark = pytest.mark.django_db


def _command(email: str, *args: str) -> dict:
    out = io.StringIO()
    call_command("offboarding_plan", email, *args, "--format", "json", stdout=out)
    return json.loads(out.getvalue())


def test_command_api_and_page_show_the_same_plan(admin_user, client_for) -> None:
    w = build_world()
    case = cases.open_case(w.lena, leave_date=w.now.date(), reason=OffboardingCase.Reason.MARKED_LEAVING)
    printed = _command("LENA@example.com", "--account", "Acme")
    assert printed["case"]["id"] == case.pk and printed["case"]["due_date"] == case.due_date.isoformat()
    assert [(i["vault"], i["title"]) for i in printed["items"]] == [
        ("Payments Prod", "Stripe Live Key"), ("Payments Prod", "Adyen Key"), ("Payments Prod", "Prod DB"),
        ("Dev Tools", "CI Token"), ("Marketing", "Twitter"), ("Dev Tools", "Staging DB"),
    ]
    assert [r.get("vault", r.get("group")) for r in printed["removals"]] == ["Marketing", "Payments Prod", "Engineering"]

    api = Client(headers=bearer_for(admin_user)).get(f"/api/v1/offboarding/{case.pk}/plan").json()
    assert api["items"] == printed["items"] and api["removals"] == printed["removals"]
    listed = Client(headers=bearer_for(admin_user)).get("/api/v1/offboarding?status=open").json()
    assert [c["email"] for c in listed["results"]] == ["lena@example.com"]

    page = client_for(admin_user).get(f"/offboarding/{case.pk}/").content.decode()
    positions = [page.index(item["title"]) for item in printed["items"]]
    assert positions == sorted(positions)  # the page lists them in the same order
    assert "Member of group “Engineering”, which gives access to “Dev Tools”." in page


def test_command_refuses_an_unknown_person() -> None:
    from django.core.management.base import CommandError

    build_world()
    with pytest.raises(CommandError, match="No person"):
        _command("nobody@example.com")


def test_a_lead_marks_someone_as_leaving_and_the_actions_need_another_person(team_lead, approver, client_for) -> None:
    w = build_world()
    lead = client_for(team_lead)
    response = lead.post(f"/offboarding/people/{w.lena.pk}/leaving/", {"leave_date": w.now.date().isoformat()})
    case = OffboardingCase.objects.get(op_user=w.lena)
    assert response.status_code == 302 and response["Location"] == f"/offboarding/{case.pk}/"
    assert case.opened_by == team_lead and case.reason == "marked_leaving"
    # A lead owning no vault creates no action: every line is outside their scope.
    lead.post(f"/offboarding/{case.pk}/actions/")
    case.refresh_from_db()
    assert case.plan is None
    w.prod.owner = team_lead
    w.prod.save()
    lead.post(f"/offboarding/{case.pk}/actions/")
    case.refresh_from_db()
    assert case.plan is not None
    kinds = sorted((a.kind, a.vault.name) for a in case.plan.actions.all())
    assert kinds == [("revoke_user", "Payments Prod"), ("rotate_secret", "Payments Prod"),
                     ("rotate_secret", "Payments Prod"), ("rotate_secret", "Payments Prod")]
    action = case.plan.actions.first()
    assert action is not None
    with pytest.raises(approval.ApprovalRefused):
        approval.approve_action(action=action, approver=team_lead)  # never the proposer
    approval.approve_action(action=action, approver=approver)
    assert ProposedAction.objects.get(pk=action.pk).approvals.count() == 1
    timeline = client_for(team_lead).get(f"/offboarding/{case.pk}/").content.decode()
    for step in ("Case opened", "Rotation and removal actions created", "Action approved"):
        assert step in timeline
    assert AuditLogEntry.objects.filter(action="offboarding.plan_created", actor=team_lead).count() == 1


def test_viewers_cannot_see_cases_and_approvers_cannot_mark_leavers(viewer, approver, client_for) -> None:
    w = build_world()
    case = cases.open_case(w.lena, leave_date=w.now.date(), reason="marked_leaving")
    assert client_for(viewer).get(f"/offboarding/{case.pk}/").status_code == 403
    assert client_for(approver).post(f"/offboarding/people/{w.lena.pk}/leaving/", {"leave_date": "2026-01-01"}).status_code == 403


def test_the_list_shows_open_cases_first_by_due_date_and_flags_overdue(admin_user, client_for) -> None:
    import datetime

    w = build_world()
    late = cases.open_case(w.lena, leave_date=w.now.date() - datetime.timedelta(days=20), reason="marked_leaving")
    soon = cases.open_case(w.other, leave_date=w.now.date(), reason="marked_leaving")
    page = client_for(admin_user).get("/offboarding/").content.decode()
    assert page.index(f"/offboarding/{late.pk}/") < page.index(f"/offboarding/{soon.pk}/")
    assert "Overdue by 13 days" in page and "1 overdue" in page
    overdue_only = client_for(admin_user).get("/offboarding/?status=overdue").content.decode()
    assert f"/offboarding/{soon.pk}/" not in overdue_only and f"/offboarding/{late.pk}/" in overdue_only
