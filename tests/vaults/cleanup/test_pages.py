"""The cleanup pages: list, propose, generate, plan detail with command previews, dry run."""

from __future__ import annotations

from django.urls import reverse

from vaults.cleanup.models import CleanupPlan, ProposedAction
from vaults.findings.models import Finding

from .conftest import FakeOrg, approved_plan

Kind = ProposedAction.Kind


def test_generated_plan_has_the_six_phases_in_order_as_an_editable_draft(fake_org: FakeOrg, team_lead, client_for):
    response = client_for(team_lead).post(reverse("cleanup:generate"), {"account": fake_org.account.pk})

    plan = CleanupPlan.objects.get()
    assert response.status_code == 302
    assert plan.status == CleanupPlan.Status.DRAFT and plan.source == CleanupPlan.Source.GENERATED
    phases = list(plan.actions.order_by("position").values_list("phase", flat=True))
    assert phases == sorted(phases)
    kinds = set(plan.actions.values_list("kind", flat=True))
    assert {Kind.CONSOLIDATE_DUPLICATES, Kind.RENAME_ITEM, Kind.ARCHIVE_ITEM, Kind.SET_TAGS} <= kinds
    archived = set(plan.actions.filter(kind=Kind.ARCHIVE_ITEM).values_list("item_id", flat=True))
    renamed = set(plan.actions.filter(kind=Kind.RENAME_ITEM).values_list("item_id", flat=True))
    assert not archived & renamed  # an item being archived is not renamed too


def test_plan_page_shows_the_exact_command_and_never_the_token(fake_org: FakeOrg, team_lead, approver, client_for):
    finding = Finding.objects.filter(kind=Finding.Kind.UNCLEAR_NAME, status=Finding.Status.OPEN).first()
    client_for(team_lead).post(reverse("cleanup:propose"), {"finding": [finding.pk]})
    plan = CleanupPlan.objects.get()
    action = plan.actions.get()

    page = client_for(approver).get(reverse("cleanup:plan", args=[plan.pk])).content.decode()

    assert f"op --format json item edit {finding.item.op_id} --vault {finding.item.vault.op_id}" in page
    assert fake_org.data()["tokens"][0]["token"] not in page
    assert action.get_identity_display() in page


def test_propose_get_previews_without_creating_anything(fake_org: FakeOrg, team_lead, client_for):
    ids = list(
        Finding.objects.filter(kind=Finding.Kind.ORPHANED, status=Finding.Status.OPEN).values_list("pk", flat=True)[:3]
    )

    response = client_for(team_lead).get(reverse("cleanup:propose"), {"finding": ids})

    assert response.status_code == 200
    assert "Create draft plan" in response.content.decode()
    assert not CleanupPlan.objects.exists()


def test_propose_with_a_bad_finding_id_is_a_400(fake_org: FakeOrg, team_lead, client_for):
    assert client_for(team_lead).get(reverse("cleanup:propose"), {"finding": ["nope"]}).status_code == 400


def test_bulk_proposal_from_selected_findings_creates_one_draft_with_an_action_each(
    fake_org: FakeOrg, team_lead, client_for
):
    ids = list(
        Finding.objects.filter(kind=Finding.Kind.ORPHANED, status=Finding.Status.OPEN).values_list("pk", flat=True)[:3]
    )

    client_for(team_lead).post(reverse("cleanup:propose"), {"finding": ids})

    plan = CleanupPlan.objects.get()
    assert sorted(plan.actions.values_list("finding_id", flat=True)) == sorted(ids)
    assert set(plan.actions.values_list("kind", flat=True)) == {Kind.ARCHIVE_ITEM}


def test_dry_run_shows_what_would_happen_without_running_op(fake_org: FakeOrg, team_lead, approver, client_for):
    from vaults.models import Item

    item = Item.objects.filter(vault__name="Corporate IT", archived=False).first()
    from vaults.cleanup import plans

    plan = approved_plan(
        account=fake_org.account,
        proposer=team_lead,
        approvers=[approver],
        specs=[plans.ActionSpec(Kind.RENAME_ITEM, item.vault, item=item, params={"title": "Dry Corporate Login"})],
    )
    calls_before = len(fake_org.write_calls())

    response = client_for(approver).get(reverse("cleanup:dry_run", args=[plan.pk]), HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert "run" in body and "Dry Corporate Login" in body
    assert len(fake_org.write_calls()) == calls_before
    assert fake_org.item(item.op_id)["title"] == item.title


def test_list_page_shows_plans_with_counts_in_few_queries(
    fake_org: FakeOrg, team_lead, approver, client_for, django_assert_max_num_queries
):
    from vaults.cleanup import plans
    from vaults.models import Item

    for item in Item.objects.filter(vault__name="Corporate IT")[:3]:
        approved_plan(
            account=fake_org.account,
            proposer=team_lead,
            approvers=[approver],
            specs=[plans.ActionSpec(Kind.ARCHIVE_ITEM, item.vault, item=item)],
        )
    client = client_for(approver)

    with django_assert_max_num_queries(8):
        response = client.get(reverse("cleanup:list"))

    assert response.status_code == 200
    assert response.content.decode().count("1 approved") == 3


def test_an_action_of_a_draft_plan_reads_draft_and_after_submitting_awaiting_approval(fake_org: FakeOrg, team_lead, client_for):
    import re

    from vaults.cleanup import plans

    finding = Finding.objects.filter(kind=Finding.Kind.UNCLEAR_NAME, status=Finding.Status.OPEN).first()
    client_for(team_lead).post(reverse("cleanup:propose"), {"finding": [finding.pk]})
    plan = CleanupPlan.objects.get()
    status_pill = re.compile(r'data-action-status="proposed">([^<]*)</span>')

    draft_page = client_for(team_lead).get(reverse("cleanup:plan", args=[plan.pk])).content.decode()
    plans.submit_plan(plan=plan, user=team_lead)
    submitted_page = client_for(team_lead).get(reverse("cleanup:plan", args=[plan.pk])).content.decode()

    assert status_pill.findall(draft_page) == ["Draft"]
    assert status_pill.findall(submitted_page) == ["Awaiting approval"]  # decoy: the same stored status, submitted
