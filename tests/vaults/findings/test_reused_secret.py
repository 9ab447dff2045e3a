"""reused_secret: one secret behind different services is rotated, never archived; a consolidation
refuses anything that is not a copy of the kept item, naming the items."""

from __future__ import annotations

import pytest

from tests.vaults.factories import make_item, make_secret
from tests.vaults.findings.helpers import open_findings
from vaults.cleanup import actions, plans
from vaults.cleanup.models import ProposedAction
from vaults.findings.models import Finding, Policy
from vaults.models import Vault

FP = "cd" * 32
BUILD = [{"label": "website", "href": "https://ci.algolia.example", "primary": True}]
BASTION = [{"label": "website", "href": "https://bastion.aws.example", "primary": True}]


@pytest.fixture
def reused(account, prod_vault, dev_vault):
    algolia = make_item(vault=prod_vault, title="Algolia Production Build Server", category="SERVER", urls=BUILD)
    aws = make_item(vault=dev_vault, title="AWS Development Bastion Server", category="SERVER", urls=BASTION)
    for item in (algolia, aws):
        make_secret(item=item, fingerprint=FP)
    [finding] = open_findings(account, Finding.Kind.REUSED_SECRET)
    return finding, algolia, aws


def test_a_reused_secret_finding_proposes_no_archive(reused) -> None:
    finding, _, aws = reused

    specs, _ = plans.specs_for_finding(finding)

    # The default policy lets op rotate no SERVER item: a guided manual rotation, never an archive.
    assert [(s.kind, s.item, s.params["via_op"]) for s in specs] == [(ProposedAction.Kind.ROTATE_SECRET, aws, False)]


def test_a_reused_secret_is_rotated_for_every_service_but_one_when_the_policy_allows(reused) -> None:
    finding, _, aws = reused
    Policy.objects.filter(vault=None).update(allow_generate_password=True)

    specs, _ = plans.specs_for_finding(finding)

    assert [(s.kind, s.item) for s in specs] == [(ProposedAction.Kind.ROTATE_SECRET, aws)]
    assert all(s.phase == ProposedAction.Phase.ROTATE for s in specs)


def test_the_six_phase_plan_never_archives_an_item_behind_a_reused_secret(account, reused, admin_user) -> None:
    _, _, aws = reused
    Policy.objects.filter(vault=None).update(allow_generate_password=True)
    aws.tags = ["deprecated"]  # also orphaned: the archive phase would otherwise take it
    aws.save()
    from vaults.findings.engine import compute_findings

    compute_findings(account=account)
    plan, skipped = plans.generate_plan(account=account, proposed_by=admin_user)

    kinds = {(a.kind, a.item_id) for a in plan.actions.all()}
    assert (ProposedAction.Kind.ARCHIVE_ITEM, aws.pk) not in kinds
    assert not plan.actions.filter(kind=ProposedAction.Kind.CONSOLIDATE_DUPLICATES).exists()
    assert (ProposedAction.Kind.ROTATE_SECRET, aws.pk) in kinds
    assert any("rotate, do not archive" in s for s in skipped)


def test_a_consolidation_of_items_that_are_not_copies_is_refused_naming_them(reused, account, team_lead) -> None:
    _, algolia, aws = reused
    spec = plans.ActionSpec(
        ProposedAction.Kind.CONSOLIDATE_DUPLICATES, algolia.vault,
        params={"keep_item_id": algolia.pk, "archive_item_ids": [aws.pk], "candidate_item_ids": [algolia.pk, aws.pk]},
    )  # fmt: skip
    plan = plans.create_plan(account=account, proposed_by=team_lead, specs=[spec], title="forced")
    action = plan.actions.get()

    commands, problem = actions.preview(action)

    assert commands == []
    assert "AWS Development Bastion Server" in problem and "Payments Development" in problem
    with pytest.raises(plans.PlanError, match="AWS Development Bastion Server"):
        plans.submit_plan(plan=plan, user=team_lead)


def test_a_consolidation_of_true_copies_names_each_archived_item_by_title_and_vault(
    account, prod_vault, dev_vault, team_lead
) -> None:
    keep = make_item(vault=prod_vault, title="Algolia Production Build Server", urls=BUILD)
    copy = make_item(vault=dev_vault, title="Algolia Build Server (copy)", urls=BUILD)
    for item in (keep, copy):
        make_secret(item=item, fingerprint=FP)
    [duplicate] = open_findings(account, Finding.Kind.DUPLICATE)

    Vault.objects.filter(pk__in=[prod_vault.pk, dev_vault.pk]).update(owner=team_lead)  # the lead's vaults
    plan, _ = plans.create_plan_from_findings(findings=[duplicate], proposed_by=team_lead)
    action = plan.actions.get()

    assert action.params["archive_item_ids"] == [copy.pk]
    effect = actions.expected_effect(action)
    assert "“Algolia Build Server (copy)” (Payments Development)" in effect
    assert "Keep “Algolia Production Build Server” (Payments Production)" in effect
    commands, problem = actions.preview(action)
    assert problem == "" and len(commands) == 1


def test_a_copy_whose_secret_changed_since_the_proposal_is_refused(account, prod_vault, dev_vault, team_lead) -> None:
    keep = make_item(vault=prod_vault, title="Algolia Production Build Server", urls=BUILD)
    copy = make_item(vault=dev_vault, title="Algolia Build Server (copy)", urls=BUILD)
    make_secret(item=keep, fingerprint=FP)
    rotated = make_secret(item=copy, fingerprint=FP)
    [duplicate] = open_findings(account, Finding.Kind.DUPLICATE)
    Vault.objects.filter(pk__in=[prod_vault.pk, dev_vault.pk]).update(owner=team_lead)  # the lead's vaults
    plan, _ = plans.create_plan_from_findings(findings=[duplicate], proposed_by=team_lead)
    rotated.fingerprint = "ef" * 32
    rotated.save()

    _, problem = actions.preview(plan.actions.get())

    assert "Algolia Build Server (copy)" in problem and "refused" in problem
