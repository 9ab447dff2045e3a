"""Issue #14 item 8: team leads propose cleanup only on vaults they own; admins anywhere.

The attacker is a second team lead, Lena, who owns one vault of the fake organisation; Tom (the
`team_lead` persona) owns every other vault. Each attack (a direct POST of one finding, a bulk
proposal, the generated six-phase plan, an edit that moves an item into someone else's vault)
must be refused with a 403 that names the vault and leave no plan behind; the same request on
Lena's own vault (the decoy) works, and an admin may propose anywhere.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.db.models import Count
from django.urls import reverse

from compliance.models import AuditLogEntry
from openclaw_web.roles import Role
from vaults.cleanup import actions as action_kinds
from vaults.cleanup import plans, scope
from vaults.cleanup.models import CleanupPlan, ProposedAction
from vaults.findings.models import Finding
from vaults.models import Item, Vault

from .conftest import FakeOrg, draft_plan

Kind = ProposedAction.Kind
# Findings whose action touches exactly the finding's item's vault.
SINGLE_VAULT_KINDS = [Finding.Kind.ORPHANED, Finding.Kind.UNCLEAR_NAME]


@pytest.fixture
def other_lead(make_user: Callable[..., User]) -> User:
    return make_user("lena_lead", Role.TEAM_LEAD)


@pytest.fixture
def lena_vault(fake_org: FakeOrg, other_lead: User) -> Vault:
    """The vault with the most single-vault findings becomes Lena's; Tom keeps the rest."""
    busiest = (
        Finding.objects.filter(status=Finding.Status.OPEN, kind__in=SINGLE_VAULT_KINDS, item__isnull=False)
        .values("item__vault")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    assert busiest is not None and busiest["n"] >= 2
    vault = Vault.objects.get(pk=busiest["item__vault"])
    Vault.objects.filter(pk=vault.pk).update(owner=other_lead)
    vault.refresh_from_db()
    return vault


def _findings_in(vault: Vault, *, exclude: bool = False) -> list[Finding]:
    rows = Finding.objects.filter(status=Finding.Status.OPEN, kind__in=SINGLE_VAULT_KINDS, item__isnull=False)
    rows = rows.exclude(item__vault=vault) if exclude else rows.filter(item__vault=vault)
    found = list(rows.select_related("item__vault").order_by("pk")[:3])
    assert found, "the fake organisation should have actionable findings here"
    return found


def test_a_lead_posting_a_finding_of_another_leads_vault_is_refused_and_nothing_is_created(
    lena_vault: Vault, other_lead: User, client_for
):
    toms_finding = _findings_in(lena_vault, exclude=True)[0]

    response = client_for(other_lead).post(reverse("cleanup:propose"), {"finding": [toms_finding.pk]})

    assert response.status_code == 403
    assert toms_finding.item.vault.name in response.content.decode()
    assert not CleanupPlan.objects.exists()
    assert not ProposedAction.objects.exists()
    refusal = AuditLogEntry.objects.get(action="cleanup.proposal.outside_scope")
    assert refusal.details["findings"] == [toms_finding.pk]


def test_a_lead_proposing_on_their_own_vault_gets_a_draft_plan(lena_vault: Vault, other_lead: User, client_for):
    own = _findings_in(lena_vault)[0]

    response = client_for(other_lead).post(reverse("cleanup:propose"), {"finding": [own.pk]})

    assert response.status_code == 302
    plan = CleanupPlan.objects.get()
    assert plan.proposed_by == other_lead
    assert set(plan.actions.values_list("vault_id", flat=True)) == {lena_vault.pk}


def test_a_bulk_proposal_mixing_own_and_foreign_findings_is_refused_whole(
    lena_vault: Vault, other_lead: User, client_for
):
    mixed = [f.pk for f in _findings_in(lena_vault)] + [_findings_in(lena_vault, exclude=True)[0].pk]

    response = client_for(other_lead).post(reverse("cleanup:propose"), {"finding": mixed})

    assert response.status_code == 403
    assert not CleanupPlan.objects.exists()  # not even the half that was in scope


def test_a_bulk_proposal_of_own_findings_works(lena_vault: Vault, other_lead: User, client_for):
    own = [f.pk for f in _findings_in(lena_vault)]

    response = client_for(other_lead).post(reverse("cleanup:propose"), {"finding": own})

    assert response.status_code == 302
    assert sorted(CleanupPlan.objects.get().actions.values_list("finding_id", flat=True)) == sorted(own)


def test_a_lead_cannot_generate_the_six_phase_plan_for_another_leads_vault(
    fake_org: FakeOrg, lena_vault: Vault, other_lead: User, client_for
):
    toms_vault = _findings_in(lena_vault, exclude=True)[0].item.vault

    response = client_for(other_lead).post(
        reverse("cleanup:generate"), {"account": fake_org.account.pk, "vaults": [toms_vault.pk]}
    )

    assert response.status_code == 403
    assert toms_vault.name in response.content.decode()
    assert not CleanupPlan.objects.exists()


def test_the_generated_plan_of_a_lead_covers_only_the_vaults_they_own(
    fake_org: FakeOrg, lena_vault: Vault, other_lead: User, client_for
):
    response = client_for(other_lead).post(reverse("cleanup:generate"), {"account": fake_org.account.pk})

    assert response.status_code == 302
    actions = list(CleanupPlan.objects.get().actions.select_related("vault", "destination_vault"))
    assert actions
    touched = {v.pk for action in actions for v in action_kinds.touched_vaults(action)}
    assert touched == {lena_vault.pk}


def test_the_generated_plan_of_an_admin_covers_every_vault(
    fake_org: FakeOrg, lena_vault: Vault, admin_user: User, client_for
):
    client_for(admin_user).post(reverse("cleanup:generate"), {"account": fake_org.account.pk})

    vaults = set(CleanupPlan.objects.get().actions.values_list("vault_id", flat=True))
    assert lena_vault.pk in vaults and len(vaults) > 1


def test_an_admin_proposes_on_any_vault(lena_vault: Vault, admin_user: User, client_for):
    toms_finding = _findings_in(lena_vault, exclude=True)[0]
    lenas_finding = _findings_in(lena_vault)[0]

    response = client_for(admin_user).post(reverse("cleanup:propose"), {"finding": [toms_finding.pk, lenas_finding.pk]})

    assert response.status_code == 302
    assert CleanupPlan.objects.get().actions.count() == 2


def test_a_vault_without_owner_is_left_to_admins(fake_org: FakeOrg, lena_vault: Vault, team_lead: User, admin_user):
    finding = _findings_in(lena_vault, exclude=True)[0]
    Vault.objects.filter(pk=finding.item.vault_id).update(owner=None)
    finding = Finding.objects.select_related("item__vault", "account").get(pk=finding.pk)

    with pytest.raises(scope.OutsideVaultScope, match="You do not own the vault"):
        plans.create_plan_from_findings(findings=[finding], proposed_by=team_lead)
    assert not CleanupPlan.objects.exists()

    plan, _ = plans.create_plan_from_findings(findings=[finding], proposed_by=admin_user)
    assert plan.actions.get().vault_id == finding.item.vault_id


def test_a_consolidation_with_a_copy_in_another_leads_vault_is_refused(
    fake_org: FakeOrg, lena_vault: Vault, other_lead: User
):
    # Built by hand rather than from a duplicate finding, so the copies surely lie in two vaults.
    lenas_copy = Item.objects.filter(vault=lena_vault, archived=False).first()
    toms_copy = Item.objects.exclude(vault=lena_vault).filter(archived=False).select_related("vault").first()
    copies = [lenas_copy.pk, toms_copy.pk]
    spec = plans.ActionSpec(
        Kind.CONSOLIDATE_DUPLICATES,
        lena_vault,
        params={"keep_item_id": lenas_copy.pk, "archive_item_ids": [toms_copy.pk], "candidate_item_ids": copies},
    )

    with pytest.raises(scope.OutsideVaultScope, match=f"You do not own the vault “{toms_copy.vault.name}”"):
        scope.check_specs(other_lead, [spec])
    kept, notes = scope.keep_in_scope(other_lead, [spec])
    assert kept == [] and toms_copy.vault.name in notes[0]

    # Decoy: once Lena owns both vaults, the same consolidation is hers to propose.
    Vault.objects.filter(pk=toms_copy.vault_id).update(owner=other_lead)
    scope.check_specs(other_lead, [spec])
    assert scope.keep_in_scope(other_lead, [spec]) == ([spec], [])


def test_a_lead_cannot_edit_a_move_into_another_leads_vault(
    fake_org: FakeOrg, lena_vault: Vault, other_lead: User, client_for
):
    item = Item.objects.filter(vault=lena_vault, archived=False).first()
    spec = plans.ActionSpec(Kind.MOVE_ITEM, lena_vault, item=item, destination_vault=lena_vault)
    action = draft_plan(account=fake_org.account, proposer=other_lead, specs=[spec]).actions.get()
    toms_vault = Vault.objects.exclude(pk=lena_vault.pk).filter(removed_at__isnull=True).first()
    edit = reverse("cleanup:action_edit", args=[action.pk])

    refused = client_for(other_lead).post(edit, {"destination_vault": toms_vault.pk})

    assert refused.status_code == 403
    assert toms_vault.name in refused.content.decode()
    action.refresh_from_db()
    assert action.destination_vault_id == lena_vault.pk

    # Decoy: a destination Lena owns is accepted.
    second = Vault.objects.exclude(pk__in=[lena_vault.pk, toms_vault.pk]).filter(removed_at__isnull=True).first()
    Vault.objects.filter(pk=second.pk).update(owner=other_lead)
    assert client_for(other_lead).post(edit, {"destination_vault": second.pk}).status_code == 302
    action.refresh_from_db()
    assert action.destination_vault_id == second.pk
