"""Issue 19 in the browser: a team lead proposes a move from the item page and a group revocation
from the vault page; approvers (never the lead) approve; the worker executes both against the
fake `op`; the follow-up sync shows the item in its new vault and the group gone from the vault."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.e2e.conftest import screenshot, sign_in
from tests.vaults.cleanup.conftest import PRIVILEGED_ENV, FakeOrg, fake_org  # noqa: F401 (fixture)
from vaults.cleanup.identities import is_personal_vault
from vaults.cleanup.models import CleanupPlan, ProposedAction
from vaults.findings.sync_identity import sync_identity_op_id
from vaults.models import Item, Vault, VaultGrant

PASSWORD = "correct horse battery staple 9"
Kind = ProposedAction.Kind


def _shared_vaults(account) -> list[Vault]:
    vaults = Vault.objects.filter(account=account, removed_at__isnull=True).exclude(
        classification=Vault.Classification.PRODUCTION
    )
    return [v for v in vaults.order_by("pk") if not is_personal_vault(v)]


@pytest.mark.django_db(transaction=True)
def test_a_move_and_a_group_revocation_proposed_from_pages_reach_1password(
    live_server,
    page,
    fake_org: FakeOrg,  # noqa: F811
    team_lead,
    approver,
    second_approver,
):
    # Group grants are changed by the privileged identity (the service account did not create the vault).
    fake_org.account.privileged_token_env = PRIVILEGED_ENV
    fake_org.account.save(update_fields=["privileged_token_env"])
    vaults = _shared_vaults(fake_org.account)
    own = sync_identity_op_id(fake_org.account)
    grant = next(
        g
        for g in VaultGrant.objects.filter(vault__in=vaults, group__isnull=False).select_related("vault", "group")
        if not g.group.memberships.filter(user__op_id=own).exists()
    )
    vault, group = grant.vault, grant.group
    item = Item.objects.filter(vault__in=vaults, archived=False, removed_at__isnull=True).exclude(vault=vault).first()
    assert item is not None
    destination = vault  # move the item into the vault whose group grant is revoked: both in one plan

    # 1. The lead proposes the move from the item page...
    sign_in(page, live_server.url, team_lead.username, PASSWORD)
    page.goto(live_server.url + reverse("vaults:item", args=[item.pk]))
    page.click("a:has-text('Move to vault…')")
    page.select_option("select[name=destination]", str(destination.pk))
    screenshot(page, "propose-pages-01-move-form")
    page.click("button:has-text('Add to draft plan')")
    page.wait_for_selector("[data-plan-status=draft]")
    assert "Started your draft plan" in page.content()

    # ...and the group revocation from the vault page's access section.
    page.goto(live_server.url + reverse("vaults:detail", args=[vault.pk]))
    page.click(f"[data-revoke-group='{group.pk}']")
    page.select_option("select[name=which]", "all")
    screenshot(page, "propose-pages-02-revoke-form")
    page.click("button:has-text('Add to draft plan')")
    page.wait_for_selector("[data-plan-status=draft]")
    assert "Added to your draft plan" in page.content()
    plan = CleanupPlan.objects.get()
    assert sorted(plan.actions.values_list("kind", flat=True)) == sorted([Kind.MOVE_ITEM, Kind.REVOKE_GROUP])
    page.click("text=Submit for approval")
    page.wait_for_selector("[data-plan-status=proposed]")
    assert page.locator("button:has-text('Approve')").count() == 0  # never the proposer
    page.click("button:has-text('Sign out')")

    # 2. Two approvers (a revocation is risky) approve; the second executes.
    for person in (approver, second_approver):
        sign_in(page, live_server.url, person.username, PASSWORD)
        page.goto(f"{live_server.url}/cleanup/{plan.pk}/")
        page.click("text=Approve all awaiting actions")
        page.wait_for_selector("[data-action-status]")
        if person is approver:
            page.click("button:has-text('Sign out')")
    page.wait_for_selector("[data-test=execute]")
    page.click("[data-test=execute]")
    page.wait_for_function("document.querySelectorAll('[data-action-status=done]').length === 2", timeout=90_000)
    page.goto(f"{live_server.url}/cleanup/{plan.pk}/")
    screenshot(page, "propose-pages-03-executed")
    statuses = dict(plan.actions.values_list("kind", "status"))
    assert statuses == {Kind.MOVE_ITEM: ProposedAction.Status.DONE, Kind.REVOKE_GROUP: ProposedAction.Status.DONE}

    # 3. 1Password changed, and the follow-up sync shows it on the pages.
    move = plan.actions.get(kind=Kind.MOVE_ITEM)
    assert fake_org.item(move.result["new_item_op_id"])["vault_id"] == vault.op_id
    assert all(g["group_id"] != group.op_id for g in fake_org.vault(vault.op_id)["group_grants"])
    fake_org.sync()
    assert Item.objects.get(pk=item.pk).vault_id == vault.pk
    assert not VaultGrant.objects.filter(vault=vault, group=group).exists()
    page.goto(live_server.url + reverse("vaults:detail", args=[vault.pk]))
    assert page.locator("[data-group-access]").count() == 1
    assert page.locator(f"[data-group='{group.pk}']").count() == 0
    assert page.js_errors == []
