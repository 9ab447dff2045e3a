"""The dashboard's "Your work" cards: per role, per person, never shared through the cache."""

from __future__ import annotations

import re

import pytest
import redis
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from compliance.reviews.models import AccessReview, AccessReviewEntry
from tests.conftest import TEST_CACHE_REDIS_URL as CACHE_URL
from vaults.cleanup import approval, plans
from vaults.cleanup.models import CleanupPlan, ProposedAction
from vaults.models import Vault

from .factories import make_account, make_item, make_vault

Kind = ProposedAction.Kind


@pytest.fixture
def submitted(db, team_lead) -> CleanupPlan:
    account = make_account(name="Acme")
    vault = make_vault(account=account, name="Shared Engineering", classification=Vault.Classification.SHARED)
    item = make_item(vault=vault, title="Password")
    spec = plans.ActionSpec(Kind.RENAME_ITEM, vault, item=item, params={"title": "Jira Shared Login"})
    plan = plans.create_plan(account=account, proposed_by=team_lead, specs=[spec], title="Tidy Jira")
    return plans.submit_plan(plan=plan, user=team_lead)


def _work(client: Client) -> str:
    body = client.get(reverse("dashboard")).content.decode()
    found = re.search(r"<section class=\"section\" aria-labelledby=\"your-work-h\".*?</section>\s*</div>\s*</section>",
                      body, re.S)
    return found.group(0) if found else ""


def test_an_approver_sees_the_plan_waiting_for_them(submitted, approver, client_for):
    work = _work(client_for(approver))

    assert "1 approval waiting" in work
    assert reverse("cleanup:plan", args=[submitted.pk]) in work
    assert 'data-card="my-plans"' not in work  # an approver proposes nothing


def test_the_proposer_sees_who_must_approve_and_no_approval_card(submitted, team_lead, approver, client_for):
    approver.first_name, approver.last_name = "April", "Approver"
    approver.save()

    work = _work(client_for(team_lead))

    assert "Awaiting approval by April Approver" in work
    assert 'data-card="approvals"' not in work  # a team lead cannot approve


def test_an_admin_who_proposed_the_plan_has_no_approval_waiting_for_it(db, admin_user, approver, client_for):
    account = make_account(name="Acme")
    vault = make_vault(account=account, name="Ops")
    item = make_item(vault=vault, title="Password")
    spec = plans.ActionSpec(Kind.RENAME_ITEM, vault, item=item, params={"title": "Ops Login"})
    plan = plans.create_plan(account=account, proposed_by=admin_user, specs=[spec], title="Own plan")
    plans.submit_plan(plan=plan, user=admin_user)

    work = _work(client_for(admin_user))

    assert "0 approvals waiting" in work  # same rule as the approve view: never one's own plan
    assert "Awaiting approval by april_approver" in work


def test_the_approval_card_follows_the_approve_rule(submitted, approver, second_approver):
    action = submitted.actions.get()
    assert list(approval.plans_awaiting(approver)) == [submitted] and not approval.refusal(action, approver)

    approval.approve_action(action=action, approver=approver)

    assert list(approval.plans_awaiting(approver)) == []
    assert list(approval.plans_awaiting(second_approver)) == []  # approved: nothing left to decide


def test_after_approval_the_proposer_sees_who_executes(submitted, team_lead, approver, client_for):
    submitted.actions.update(identity=ProposedAction.Identity.MANUAL)
    approval.approve_plan(plan=submitted, approver=approver)

    work = _work(client_for(team_lead))

    assert "Approved: 1 manual step for an administrator" in work


def test_a_reviewer_sees_their_open_decisions_only(db, team_lead, compliance_officer, client_for):
    account = make_account(name="Acme")
    from django.utils import timezone

    now = timezone.now()
    review = AccessReview.objects.create(account=account, title="Q4 review", period="2026Q4", period_start=now,
                                         period_end=now, opened_by=compliance_officer, opened_at=now)
    for reviewer, decision in ((team_lead, ""), (team_lead, ""), (team_lead, "keep"), (compliance_officer, "")):
        AccessReviewEntry.objects.create(review=review, user_label="x", vault_name="v", reviewer=reviewer,
                                         decision=decision)

    lead = _work(client_for(team_lead))
    officer = _work(client_for(compliance_officer))

    assert "Q4 review</a>: 2 undecided entries" in lead
    assert "Q4 review</a>: 1 undecided entry" in officer
    AccessReview.objects.filter(pk=review.pk).update(status=AccessReview.Status.SIGNED_OFF)
    assert "Q4 review" not in _work(client_for(team_lead))  # decoy: a closed review waits for nobody


@pytest.mark.parametrize("persona", ["viewer", "auditor"])
def test_roles_without_work_capabilities_see_no_card(submitted, persona, request, client_for):
    user = request.getfixturevalue(persona)

    body = client_for(user).get(reverse("dashboard")).content.decode()

    assert "data-your-work" not in body and "approval waiting" not in body


def test_cards_never_leak_across_people_through_the_fragment_cache(make_user, client_for, settings, monkeypatch):
    from openclaw_web import data_versions
    from openclaw_web.roles import Role

    # The production backend, and fixed data versions: the test runs inside a transaction, where
    # fragments are otherwise not cached.
    settings.CACHES = {"default": {"BACKEND": "openclaw_web.cache_backend.ReusedClientRedisCache", "LOCATION": CACHE_URL}}
    fixed = data_versions.DataVersions(people=0, policy="", accounts={})
    monkeypatch.setattr(data_versions, "read", lambda: fixed)
    client = redis.Redis.from_url(CACHE_URL)
    client.flushdb()
    lead = make_user("tom_lead", Role.TEAM_LEAD)
    other_lead = make_user("tina_lead", Role.TEAM_LEAD)
    account = make_account(name="Acme")
    vault = make_vault(account=account, name="Shared Engineering")
    item = make_item(vault=vault, title="Password")
    spec = plans.ActionSpec(Kind.RENAME_ITEM, vault, item=item, params={"title": "Jira Shared Login"})
    plans.create_plan(account=account, proposed_by=lead, specs=[spec], title="Tom's own plan")
    lead_client, other_client = client_for(lead), client_for(other_lead)

    as_lead = lead_client.get(reverse("dashboard")).content.decode()
    with CaptureQueriesContext(connection) as other_queries:
        as_other = other_client.get(reverse("dashboard")).content.decode()
    client.flushdb()

    # Same roles, path and data versions: the fragment is shared (no health query the second
    # time), the cards are not.
    assert not any("findings_healthsnapshot" in q["sql"] for q in other_queries.captured_queries), "served from cache"
    assert "Tom&#x27;s own plan" in as_lead
    assert "Tom&#x27;s own plan" not in as_other and "You have not proposed a cleanup plan" in as_other
