"""Adversarial review of proposals from the pages (issue 19): a page proposal racing the submit
of the same draft. Two real PostgreSQL connections, no mocks: the submit holds the plan's row
lock while the proposal reads the draft, as two browser tabs of one proposer would."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from tests.vaults.cleanup.conftest import FakeOrg, fake_org  # noqa: F401 (fixture)
from vaults.cleanup import page_proposals, plans
from vaults.cleanup.models import CleanupPlan, ProposedAction
from vaults.models import Item, Vault


def _items(n: int) -> list[Item]:
    items = (
        Item.objects.filter(archived=False, removed_at__isnull=True)
        .exclude(vault__classification__in=[Vault.Classification.PERSONAL, Vault.Classification.PRODUCTION])
        .exclude(vault__vault_type="PERSONAL")
        .select_related("vault__account")
        .order_by("pk")[:n]
    )
    found = list(items)
    assert len(found) == n
    return found


@pytest.mark.django_db(transaction=True)
def test_a_page_proposal_never_lands_in_a_plan_submitted_meanwhile(
    fake_org: FakeOrg,  # noqa: F811
    team_lead,
) -> None:
    """`propose` finds the open page draft, then re-reads it under a row lock, but does not
    check it is still a draft: an action proposed while the other tab submits lands in the
    submitted plan, in status PROPOSED, after the submit's checks and the e-mail to approvers
    counted the actions. An approver who opened the plan before and clicks "Approve plan"
    approves an action they never saw."""
    first, second = _items(2)
    landed = page_proposals.propose(user=team_lead, specs=[page_proposals.archive_spec(item=first)])
    draft = landed.plan

    holding, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def submit_in_other_tab() -> None:
        try:
            with transaction.atomic():
                plan = CleanupPlan.objects.select_for_update().get(pk=draft.pk)
                plans.submit_plan(plan=plan, user=team_lead)
                holding.set()
                release.wait(10)
        except BaseException as error:  # reported by the main thread
            errors.append(error)
            holding.set()
        finally:
            connection.close()

    other = threading.Thread(target=submit_in_other_tab)
    other.start()
    assert holding.wait(10)
    # Let the proposal read the (still uncommitted) draft and block on the row lock, then commit.
    threading.Timer(1.0, release.set).start()
    try:
        result = page_proposals.propose(user=team_lead, specs=[page_proposals.archive_spec(item=second)])
    except plans.PlanError:
        result = None  # refusing is fine too
    other.join(10)
    assert not errors, errors

    submitted = CleanupPlan.objects.get(pk=draft.pk)
    assert submitted.status == CleanupPlan.Status.PROPOSED  # decoy: the submit itself went through
    late = ProposedAction.objects.filter(plan=submitted, item=second)
    assert not late.exists(), "an action was added to a plan after it was submitted for approval"
    if result is not None:
        assert result.plan.status == CleanupPlan.Status.DRAFT and result.plan.pk != draft.pk
