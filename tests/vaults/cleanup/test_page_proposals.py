"""Issue 19, "every action from the pages": set URL/tags, rename, move and archive from the item
page; revoke a group's or a person's access from the vault page; set URL/tags from a
missing-metadata finding; bulk proposals from the filtered findings list.

Each proposal must land as a draft behind the approval gate, audited, scope-checked and
permission-checked. Decoys: a lead outside the vault's scope, the sync identity, a destination the
service account cannot write, an archived item, hostile text in a URL or title.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from compliance.models import AuditLogEntry
from openclaw_web.roles import Role
from vaults.cleanup import actions as action_kinds
from vaults.cleanup import execute, plans
from vaults.cleanup.identities import is_personal_vault
from vaults.cleanup.models import CleanupPlan, ProposedAction
from vaults.cleanup.page_proposals import PAGE_PLAN_TITLE
from vaults.cleanup.plans import submit_plan
from vaults.findings.models import Finding
from vaults.findings.sync_identity import sync_identity_op_id
from vaults.models import Item, OpUser, Vault, VaultGrant

from .conftest import FakeOrg

Kind = ProposedAction.Kind
Identity = ProposedAction.Identity


def _item(*, exclude_production: bool = True) -> Item:
    items = Item.objects.filter(archived=False, removed_at__isnull=True).select_related("vault__account")
    items = items.exclude(vault__classification=Vault.Classification.PERSONAL).exclude(vault__vault_type="PERSONAL")
    if exclude_production:
        items = items.exclude(vault__classification=Vault.Classification.PRODUCTION)
    item = items.order_by("pk").first()
    assert item is not None
    return item


def _url(item: Item, change: str) -> str:
    return reverse(f"cleanup:propose_{change}", args=[item.pk])


def _errors(response) -> str:
    return response.content.decode()


@pytest.fixture
def other_lead(make_user: Callable[..., User]) -> User:
    return make_user("lena_lead", Role.TEAM_LEAD)


# --- the item page ------------------------------------------------------------------------------


def test_item_page_offers_the_four_changes_to_the_vaults_lead_and_none_to_a_viewer(
    fake_org: FakeOrg, team_lead, viewer, client_for
):
    item = _item()

    lead_page = client_for(team_lead).get(reverse("vaults:item", args=[item.pk])).content.decode()
    viewer_page = client_for(viewer).get(reverse("vaults:item", args=[item.pk])).content.decode()

    for change in ("metadata", "rename", "move", "archive"):
        assert _url(item, change) in lead_page
        assert _url(item, change) not in viewer_page
    assert "data-item-proposals" not in viewer_page


def test_an_archived_item_offers_nothing_and_its_forms_are_404(fake_org: FakeOrg, team_lead, client_for):
    item = _item()
    Item.objects.filter(pk=item.pk).update(archived=True)
    client = client_for(team_lead)

    page = client.get(reverse("vaults:item", args=[item.pk])).content.decode()

    assert "data-no-proposals" in page and "nothing to propose" in page
    assert _url(item, "rename") not in page
    for change in ("metadata", "rename", "move", "archive"):
        assert client.get(_url(item, change)).status_code == 404
    assert client.post(_url(item, "archive")).status_code == 404
    assert not ProposedAction.objects.exists()


def test_set_url_and_tags_lands_two_actions_in_a_new_page_draft_with_valid_commands(
    fake_org: FakeOrg, team_lead, client_for
):
    item = _item()

    response = client_for(team_lead).post(
        _url(item, "metadata"), {"url": "https://dashboard.example.com/login", "tags": "billing, team-a"}
    )

    plan = CleanupPlan.objects.get()
    assert response.status_code == 302 and response["Location"].startswith(reverse("cleanup:plan", args=[plan.pk]))
    assert plan.status == CleanupPlan.Status.DRAFT and plan.proposed_by == team_lead
    assert plan.title == PAGE_PLAN_TITLE.format(account=fake_org.account.name)
    by_kind = {a.kind: a for a in plan.actions.all()}
    assert set(by_kind) == {Kind.SET_URL, Kind.SET_TAGS}
    assert by_kind[Kind.SET_URL].params == {"url": "https://dashboard.example.com/login"}
    assert by_kind[Kind.SET_TAGS].params == {"tags": ["billing", "team-a"]}
    assert action_kinds.preview(by_kind[Kind.SET_URL])[0] == [
        f"op --format json item edit {item.op_id} --vault {item.vault.op_id} --url=https://dashboard.example.com/login"
    ]
    assert all(a.status == ProposedAction.Status.PROPOSED for a in plan.actions.all())  # nothing approved
    audited = AuditLogEntry.objects.filter(action="cleanup.action.proposed_from_page")
    assert sorted(e.details["kind"] for e in audited) == sorted([Kind.SET_URL, Kind.SET_TAGS])
    assert all(e.actor_label == team_lead.username for e in audited)


def test_a_second_proposal_joins_the_open_page_draft_and_a_repeat_is_refused(fake_org: FakeOrg, team_lead, client_for):
    item = _item()
    client = client_for(team_lead)

    client.post(_url(item, "archive"))
    second = client.post(_url(item, "rename"), {"title": "Jira Shared Login"}, follow=True)
    repeat = client.post(_url(item, "archive"))

    plan = CleanupPlan.objects.get()
    assert sorted(plan.actions.values_list("kind", flat=True)) == sorted([Kind.ARCHIVE_ITEM, Kind.RENAME_ITEM])
    assert "Added to your draft plan" in second.content.decode()
    assert repeat.status_code == 400 and "already in your draft plan" in _errors(repeat)
    # Once submitted, the next proposal starts a new draft instead of changing a plan under review.
    submit_plan(plan=plan, user=team_lead)
    client.post(_url(item, "metadata"), {"url": "https://jira.example.com/"})
    assert CleanupPlan.objects.count() == 2


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("url", "javascript:alert(document.cookie)", "Enter a full address"),
        ("url", "javascript://example.com/%0aalert(1)", "“javascript:” addresses are refused"),
        ("url", "data://text/html,<script>alert(1)</script>", "“data:” addresses are refused"),
        ("url", "https://admin:hunter2@db.example.com/", "user name, password"),
        ("url", "https://example.com/?token=abc123", "secret-looking parameter"),
        ("url", "https://exa\u202emple.com/", "hidden or right-to-left"),
        ("url", "https://example.com/" + "a" * 1200, "at most 1000 characters"),
        ("tags", "ok, bad\u200btag", "hidden or right-to-left"),
        ("tags", 'say "hi"', "double quote"),
    ],
)
def test_hostile_metadata_is_refused_with_a_clear_error_and_creates_nothing(
    fake_org: FakeOrg, team_lead, client_for, field, value, message
):
    item = _item()

    response = client_for(team_lead).post(_url(item, "metadata"), {field: value})

    assert response.status_code == 400
    assert message in _errors(response)
    assert not ProposedAction.objects.exists()


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ("Stripe \u202eyek IPA", "hidden or right-to-left"),
        ("Line one\nline two", "control characters"),
        ("x" * 10_000, "at most 200 characters"),
    ],
)
def test_hostile_titles_are_refused(fake_org: FakeOrg, team_lead, client_for, title, message):
    response = client_for(team_lead).post(_url(_item(), "rename"), {"title": title})

    assert response.status_code == 400 and message in _errors(response)
    assert not ProposedAction.objects.exists()


def test_markup_and_formula_titles_are_accepted_as_text_and_escaped_on_the_plan(
    fake_org: FakeOrg, team_lead, client_for
):
    """The decoy of the hostile cases: odd but harmless text is a valid title, shown escaped."""
    item = _item()
    title = '=HYPERLINK("x") <script>alert(1)</script>'

    response = client_for(team_lead).post(_url(item, "rename"), {"title": title}, follow=True)

    action = ProposedAction.objects.get()
    assert action.params == {"title": title}
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_the_metadata_form_says_why_there_is_no_description_field(fake_org: FakeOrg, team_lead, client_for):
    page = client_for(team_lead).get(_url(_item(), "metadata")).content.decode()

    assert "data-description-note" in page and "notes" in page
    assert 'name="description"' not in page and 'name="notes"' not in page


# --- moving -------------------------------------------------------------------------------------


def _sync_grant(vault: Vault) -> VaultGrant:
    own = sync_identity_op_id(vault.account)
    return VaultGrant.objects.get(vault=vault, user__op_id=own)


def _writable_and_read_only_destinations(fake_org: FakeOrg, item: Item) -> tuple[Vault, Vault]:
    """Two shared vaults other than the item's; OpenClaw's own identity may only view the second."""
    others = [
        v
        for v in Vault.objects.filter(account=fake_org.account, removed_at__isnull=True).exclude(pk=item.vault_id)
        if not is_personal_vault(v)
    ]
    writable, read_only = others[0], others[1]
    grant = _sync_grant(read_only)
    grant.permissions = ["view_items"]
    grant.save()
    return writable, read_only


def test_move_offers_active_vaults_and_a_read_only_destination_becomes_a_manual_step(
    fake_org: FakeOrg, team_lead, client_for
):
    item = _item()
    writable, read_only = _writable_and_read_only_destinations(fake_org, item)
    client = client_for(team_lead)

    page = client.get(_url(item, "move")).content.decode()

    assert f'data-destination="{item.vault_id}"' not in page  # not its own vault
    assert f'data-destination="{writable.pk}" data-identity="{Identity.SERVICE_ACCOUNT}"' in page
    assert f'data-destination="{read_only.pk}" data-identity="{Identity.MANUAL}"' in page
    assert "manual step" in page

    client.post(_url(item, "move"), {"destination": read_only.pk})
    manual = ProposedAction.objects.get()
    assert manual.kind == Kind.MOVE_ITEM and manual.destination_vault == read_only
    assert manual.identity == Identity.MANUAL and "create items" in manual.identity_reason

    manual.delete()
    client.post(_url(item, "move"), {"destination": writable.pk})
    assert ProposedAction.objects.get().identity == Identity.SERVICE_ACCOUNT


def test_editing_a_moves_destination_in_the_draft_applies_the_same_rule(fake_org: FakeOrg, team_lead, client_for):
    item = _item()
    writable, read_only = _writable_and_read_only_destinations(fake_org, item)
    client_for(team_lead).post(_url(item, "move"), {"destination": writable.pk})
    action = ProposedAction.objects.get()
    assert action.identity == Identity.SERVICE_ACCOUNT

    plans.update_action(action=action, user=team_lead, values={"destination_vault": read_only})
    action.refresh_from_db()
    assert action.destination_vault == read_only
    assert action.identity == Identity.MANUAL and "create items" in action.identity_reason

    plans.update_action(action=action, user=team_lead, values={"destination_vault": writable})  # and back
    action.refresh_from_db()
    assert action.identity == Identity.SERVICE_ACCOUNT


def test_a_lead_cannot_move_into_a_vault_they_do_not_own(fake_org: FakeOrg, team_lead, other_lead, client_for):
    item = _item()
    lenas = Vault.objects.filter(account=fake_org.account).exclude(pk=item.vault_id).order_by("pk").first()
    Vault.objects.filter(pk=lenas.pk).update(owner=other_lead)

    page = client_for(team_lead).get(_url(item, "move")).content.decode()
    response = client_for(team_lead).post(_url(item, "move"), {"destination": lenas.pk})

    assert f'data-destination="{lenas.pk}"' not in page
    assert response.status_code == 400  # not a choice: nothing created
    assert not ProposedAction.objects.exists()


# --- scope --------------------------------------------------------------------------------------


@pytest.mark.parametrize("change", ["metadata", "rename", "move", "archive"])
def test_a_lead_outside_the_vault_gets_403_and_nothing_is_created(fake_org: FakeOrg, other_lead, client_for, change):
    item = _item()
    client = client_for(other_lead)

    page = client.get(reverse("vaults:item", args=[item.pk])).content.decode()
    get = client.get(_url(item, change))
    post = client.post(_url(item, change), {"title": "X Y", "url": "https://x.example.com/", "destination": 1})

    assert "You do not own this vault" in page and _url(item, change) not in page
    assert get.status_code == 403 and post.status_code == 403
    assert item.vault.name in post.content.decode()
    assert not CleanupPlan.objects.exists()
    assert AuditLogEntry.objects.filter(action="cleanup.proposal.outside_scope").count() == 2


def test_viewers_and_approvers_cannot_propose_from_pages(fake_org: FakeOrg, viewer, approver, client_for):
    item = _item()
    for person in (viewer, approver):
        assert client_for(person).post(_url(item, "archive")).status_code == 403
    assert not ProposedAction.objects.exists()


# --- the vault page: revocations ----------------------------------------------------------------


def _vault_with_group_and_direct_user() -> tuple[Vault, VaultGrant, VaultGrant]:
    for vault in Vault.objects.filter(removed_at__isnull=True).order_by("pk"):
        group = VaultGrant.objects.filter(vault=vault, group__isnull=False).first()
        own = sync_identity_op_id(vault.account)
        direct = VaultGrant.objects.filter(vault=vault, user__isnull=False).exclude(user__op_id=own).first()
        if group and direct and not is_personal_vault(vault):
            return vault, group, direct
    raise AssertionError("the fake organisation should have a vault with a group grant and a direct grant")


def test_vault_page_offers_group_and_user_revocations_but_never_the_sync_identity(
    fake_org: FakeOrg, team_lead, viewer, client_for
):
    vault, group_grant, user_grant = _vault_with_group_and_direct_user()
    sync_user = OpUser.objects.get(account=fake_org.account, op_id=sync_identity_op_id(fake_org.account))

    page = client_for(team_lead).get(reverse("vaults:detail", args=[vault.pk])).content.decode()
    viewer_page = client_for(viewer).get(reverse("vaults:detail", args=[vault.pk])).content.decode()

    assert f'data-revoke-group="{group_grant.group_id}"' in page
    assert f'data-revoke-user="{user_grant.user_id}"' in page
    assert f'data-revoke-user="{sync_user.pk}"' not in page  # the sync identity has a direct grant, no link
    assert "data-group-access" in viewer_page and "data-revoke-" not in viewer_page
    chooser = client_for(team_lead).get(reverse("cleanup:propose_revoke", args=[vault.pk])).content.decode()
    assert f'data-revoke-group="{group_grant.group_id}"' in chooser
    assert f'data-revoke-user="{user_grant.user_id}"' in chooser
    assert f'data-revoke-user="{sync_user.pk}"' not in chooser
    sync_form = client_for(team_lead).get(reverse("cleanup:propose_revoke", args=[vault.pk]), {"user": sync_user.pk})
    assert sync_form.status_code == 404
    forced = client_for(team_lead).post(
        reverse("cleanup:propose_revoke", args=[vault.pk]), {"user": sync_user.pk, "which": "all"}
    )
    assert forced.status_code == 404 and not ProposedAction.objects.exists()


def test_revoking_a_group_lands_a_revoke_group_action_with_the_chosen_permissions(
    fake_org: FakeOrg, team_lead, client_for
):
    vault, group_grant, _ = _vault_with_group_and_direct_user()
    url = reverse("cleanup:propose_revoke", args=[vault.pk])
    client = client_for(team_lead)
    group_grant.permissions = ["view_items", "edit_items", "manage_vault"]
    group_grant.save()

    client.post(url, {"group": group_grant.group_id, "which": "elevated"})

    action = ProposedAction.objects.get()
    assert action.kind == Kind.REVOKE_GROUP and action.op_group_id == group_grant.group_id
    assert action.params == {"permissions": ["manage_vault"]}
    assert action_kinds.preview(action)[0] == [
        f"op --format json vault group revoke --vault {vault.op_id} --group {action.op_group.op_id} "
        "--permissions manage_vault"
    ]
    assert action.identity in {Identity.SERVICE_ACCOUNT, Identity.MANUAL}  # by who created the vault

    # A group without elevated rights: "elevated only" has nothing to revoke, said on the form.
    group_grant.permissions = ["view_items"]
    group_grant.save()
    action.delete()
    refused = client.post(url, {"group": group_grant.group_id, "which": "elevated"})
    assert refused.status_code == 400 and "holds no elevated permission" in _errors(refused)
    assert not ProposedAction.objects.exists()


def test_revoking_a_persons_direct_grant_lands_a_revoke_user_action(fake_org: FakeOrg, team_lead, client_for):
    vault, _, user_grant = _vault_with_group_and_direct_user()

    client_for(team_lead).post(
        reverse("cleanup:propose_revoke", args=[vault.pk]), {"user": user_grant.user_id, "which": "all"}
    )

    action = ProposedAction.objects.get()
    assert action.kind == Kind.REVOKE_USER and action.op_user_id == user_grant.user_id
    assert set(action.params["permissions"]) >= {"view_items"}


def test_a_lead_outside_the_vault_cannot_revoke(fake_org: FakeOrg, other_lead, client_for):
    vault, group_grant, _ = _vault_with_group_and_direct_user()

    page = client_for(other_lead).get(reverse("vaults:detail", args=[vault.pk])).content.decode()
    response = client_for(other_lead).post(
        reverse("cleanup:propose_revoke", args=[vault.pk]), {"group": group_grant.group_id, "which": "all"}
    )

    assert "data-revoke-group" not in page
    assert response.status_code == 403 and not ProposedAction.objects.exists()


def test_a_group_without_a_grant_on_the_vault_is_404(fake_org: FakeOrg, team_lead, client_for):
    vault, group_grant, _ = _vault_with_group_and_direct_user()
    elsewhere = Vault.objects.exclude(pk=vault.pk).exclude(grants__group_id=group_grant.group_id).first()

    response = client_for(team_lead).get(
        reverse("cleanup:propose_revoke", args=[elsewhere.pk]), {"group": group_grant.group_id}
    )

    assert response.status_code == 404


# --- findings -----------------------------------------------------------------------------------


def test_a_missing_metadata_finding_links_to_the_prefilled_form_and_the_action_names_the_finding(
    fake_org: FakeOrg, team_lead, viewer, client_for
):
    finding = (
        Finding.objects.filter(kind=Finding.Kind.MISSING_METADATA, status=Finding.Status.OPEN, item__archived=False)
        .exclude(item__vault__classification=Vault.Classification.PERSONAL)
        .first()
    )
    assert finding is not None and finding.item is not None
    link = _url(finding.item, "metadata") + f"?finding={finding.pk}"

    detail = client_for(team_lead).get(reverse("findings:detail", args=[finding.pk])).content.decode()
    listing = client_for(team_lead).get(reverse("findings:list"), {"kind": "missing_metadata"}).content.decode()
    viewer_detail = client_for(viewer).get(reverse("findings:detail", args=[finding.pk])).content.decode()
    form = client_for(team_lead).get(link).content.decode()

    assert link.replace("&", "&amp;") in detail or link in detail
    assert link in listing
    assert "data-propose-metadata" not in viewer_detail
    assert f'name="finding" value="{finding.pk}"' in form
    assert "vault-" in form  # the suggested tags, prefilled
    client_for(team_lead).post(link, {"url": "https://status.example.com/", "finding": finding.pk})
    action = ProposedAction.objects.get()
    assert action.finding == finding and action.kind == Kind.SET_URL


def test_bulk_from_checked_findings_makes_one_new_plan_and_counts_findings_without_action(
    fake_org: FakeOrg, team_lead, client_for
):
    orphaned = list(Finding.objects.filter(kind=Finding.Kind.ORPHANED, status=Finding.Status.OPEN)[:3])
    n = len(orphaned)
    # A missing URL alone has no safe default: the decoy that produces no action.
    url_only = Finding.objects.filter(kind=Finding.Kind.MISSING_METADATA, status=Finding.Status.OPEN).first()
    Finding.objects.filter(pk=url_only.pk).update(details={"missing": ["URL"]})
    assert n >= 2

    response = client_for(team_lead).post(
        reverse("cleanup:propose_bulk"), {"ids": [f.pk for f in orphaned] + [url_only.pk]}, follow=True
    )

    plan = CleanupPlan.objects.get()
    assert plan.status == CleanupPlan.Status.DRAFT
    assert sorted(plan.actions.values_list("finding_id", flat=True)) == sorted(f.pk for f in orphaned)
    text = response.content.decode()
    assert f"{n} of {n + 1} findings" in text
    assert "1 produced no action" in text and "only a URL or description is missing" in text
    entry = AuditLogEntry.objects.get(action="cleanup.plan.proposed_in_bulk")
    assert entry.details["addressed"] == n and entry.target_id == str(plan.pk)


def test_bulk_all_matching_the_filter_takes_every_matching_finding_and_leaves_out_other_leads_vaults(
    fake_org: FakeOrg, team_lead, other_lead, client_for
):
    matching = list(Finding.objects.filter(kind=Finding.Kind.ORPHANED, status=Finding.Status.OPEN))
    lenas = matching[0].item.vault
    Vault.objects.filter(pk=lenas.pk).update(owner=other_lead)
    in_lenas = [f for f in matching if f.item.vault_id == lenas.pk]

    client_for(team_lead).post(
        reverse("cleanup:propose_bulk"), {"all_matching": "1", "query": "kind=orphaned&sort=title"}
    )

    plan = CleanupPlan.objects.get()
    assert plan.actions.count() == len(matching) - len(in_lenas)
    assert set(plan.actions.values_list("kind", flat=True)) == {Kind.ARCHIVE_ITEM}
    entry = AuditLogEntry.objects.get(action="cleanup.plan.proposed_in_bulk")
    assert entry.details["no_action"] == {"touches a vault you do not own": len(in_lenas)}


def test_the_findings_list_offers_bulk_proposal_to_proposers_only(
    fake_org: FakeOrg, team_lead, compliance_officer, client_for
):
    lead = client_for(team_lead).get(reverse("findings:list"), {"kind": "orphaned"}).content.decode()
    officer = client_for(compliance_officer).get(reverse("findings:list"), {"kind": "orphaned"}).content.decode()

    assert "data-propose-bulk" in lead and "data-all-matching" in lead and 'value="kind=orphaned"' in lead
    assert "data-propose-bulk" not in officer and "data-all-matching" not in officer


def test_bulk_with_nothing_selected_creates_nothing(fake_org: FakeOrg, team_lead, client_for):
    response = client_for(team_lead).post(reverse("cleanup:propose_bulk"), {"query": "kind=orphaned"})

    assert response.status_code == 302 and "kind=orphaned" in response["Location"]
    assert not CleanupPlan.objects.exists()


# --- through the gate to 1Password --------------------------------------------------------------


def test_a_page_proposed_move_executes_after_another_person_approves(
    fake_org: FakeOrg, team_lead, approver, second_approver, client_for
):
    item = _item()
    destination = next(
        v
        for v in Vault.objects.filter(account=fake_org.account, removed_at__isnull=True).exclude(pk=item.vault_id)
        if not is_personal_vault(v)
    )
    client_for(team_lead).post(_url(item, "move"), {"destination": destination.pk})
    plan = CleanupPlan.objects.get()
    action = plan.actions.get()

    # The proposer cannot approve their own action: the gate holds for page proposals too.
    submit_plan(plan=plan, user=team_lead)
    assert client_for(team_lead).post(reverse("cleanup:action_approve", args=[action.pk])).status_code == 403
    for person in (approver, second_approver):
        client_for(person).post(reverse("cleanup:action_approve", args=[action.pk]))
    action.refresh_from_db()
    assert action.status == ProposedAction.Status.APPROVED
    execute.execute_plan(plan_id=plan.pk)

    action.refresh_from_db()
    assert action.status == ProposedAction.Status.DONE, action.error
    moved = fake_org.item(action.result["new_item_op_id"])
    assert moved is not None and moved["vault_id"] == destination.op_id
    fake_org.sync()
    assert Item.objects.get(pk=item.pk).vault == destination


def _two_vaults_two_people():
    """Dana may lose her unused access to both vaults; Eve only to Prod's."""
    from tests.vaults.factories import grant, make_account, make_finding, make_op_user, make_vault

    account = make_account(name="acme")
    dev, prod = make_vault(account=account, name="Payments Dev"), make_vault(account=account, name="Payments Prod")
    dana, eve = make_op_user(account=account, name="Dana"), make_op_user(account=account, name="Eve")
    for person in (dana, eve):
        for vault in (dev, prod):
            grant(vault=vault, user=person, permissions=["view_items", "manage_vault"])
    over = Finding.Kind.OVER_PERMISSIONED
    both = make_finding(account=account, kind=over, severity="medium", op_user=dana,
                        details={"vault_ids": [dev.pk, prod.pk], "unused": [dev.name, prod.name]})  # fmt: skip
    prod_only = make_finding(account=account, kind=over, severity="medium", op_user=eve,
                             details={"vault_ids": [dev.pk, prod.pk], "unused": [prod.name]})  # fmt: skip
    return dev, prod, dana, both, prod_only


def test_a_bulk_proposal_from_a_vault_filter_acts_in_that_vault_only(admin_user, client_for):
    """A finding about a person names several vaults and lists under each; proposed from one
    vault's list, all matching or checked, only its revocation there is drafted. Decoys: the same
    finding proposed unfiltered revokes in both vaults; a person whose only revocation is
    elsewhere gets none."""
    dev, prod, dana, both, prod_only = _two_vaults_two_people()
    client = client_for(admin_user)

    client.post(reverse("cleanup:propose_bulk"), {"all_matching": "1", "query": f"vault={dev.pk}"})
    client.post(reverse("cleanup:propose_bulk"), {"ids": [both.pk, prod_only.pk], "query": f"vault={dev.pk}&kind=over_permissioned"})

    for plan in CleanupPlan.objects.order_by("pk"):
        assert list(plan.actions.values_list("kind", "vault_id", "op_user_id")) == [(Kind.REVOKE_USER, dev.pk, dana.pk)]
    entries = AuditLogEntry.objects.filter(action="cleanup.plan.proposed_in_bulk").order_by("pk")
    assert [e.details["no_action"] for e in entries] == [{"acts only outside “Payments Dev”, the vault the list was filtered by": 1}] * 2
    assert [e.details["vault"] for e in entries] == [dev.pk, dev.pk]

    client.post(reverse("cleanup:propose_bulk"), {"ids": [both.pk], "query": "kind=over_permissioned"})
    unfiltered = CleanupPlan.objects.order_by("pk").last()
    assert sorted(unfiltered.actions.values_list("vault_id", flat=True)) == sorted([dev.pk, prod.pk])


def test_a_vault_filter_a_lead_does_not_own_says_so(team_lead, client_for):
    """Tom owns Prod, not Dev: from Dev's list Dana's revocation lies in Dev, outside his vaults,
    and is reported so, not as acting elsewhere; Prod's revocation is not taken from Dev's list."""
    dev, prod, _, both, _ = _two_vaults_two_people()
    Vault.objects.filter(pk=prod.pk).update(owner=team_lead)

    client_for(team_lead).post(reverse("cleanup:propose_bulk"), {"ids": [both.pk], "query": f"vault={dev.pk}"})

    assert not CleanupPlan.objects.exists()
    entry = AuditLogEntry.objects.get(action="cleanup.plan.proposed_in_bulk")
    assert entry.details["no_action"] == {"touches a vault you do not own": 1}


def test_a_bulk_proposal_under_a_filter_that_no_longer_validates_is_refused(admin_user, client_for):
    """A vault removed since the list loaded: the checked findings are not proposed unbounded."""
    dev, _, _, both, _ = _two_vaults_two_people()
    Vault.objects.filter(pk=dev.pk).update(removed_at=timezone.now())

    response = client_for(admin_user).post(reverse("cleanup:propose_bulk"), {"ids": [both.pk], "query": f"vault={dev.pk}"})

    assert response.status_code == 400 and not CleanupPlan.objects.exists()
