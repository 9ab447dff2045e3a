"""Removing a person from a group (`remove_group_member`): the privileged identity runs
`op group user revoke` against the real fake `op`; without it an administrator clicks it and the
next sync verifies; who may propose it (an admin only)."""

from __future__ import annotations

import os
import subprocess

import pytest
from django.db import IntegrityError, transaction

from tests.vaults.factories import grant, make_account, make_op_group, make_op_user, make_vault
from vaults.cleanup import actions, execute, manual_steps, plans, scope
from vaults.cleanup.models import ProposedAction
from vaults.fake_op import account as account_file
from vaults.models import GroupMembership, OpGroup, OpUser
from vaults.op import OpInvalidArgument, commands

from .conftest import PRIVILEGED_ENV, REPO_ROOT, FakeOrg, approved_plan

Kind = ProposedAction.Kind
Status = ProposedAction.Status
Identity = ProposedAction.Identity


def _spec(user: OpUser, group: OpGroup) -> plans.ActionSpec:
    return plans.ActionSpec(Kind.REMOVE_GROUP_MEMBER, None, op_user=user, op_group=group)


def _team_member(org: FakeOrg) -> tuple[OpUser, OpGroup]:
    """A plain member (not the group's manager, not an owner) of a team group that grants a vault."""
    data = org.data()
    owners = {m["user_id"] for g in data["groups"] if g["type"] in ("OWNERS", "ADMINISTRATORS") for m in g["members"]}
    granting = {g["group_id"] for v in data["vaults"] for g in v["group_grants"]}
    for group in data["groups"]:
        if group["type"] != "USER_DEFINED" or group["id"] not in granting:
            continue
        for member in group["members"]:
            if member["role"] == "MEMBER" and member["user_id"] not in owners:
                return OpUser.objects.get(op_id=member["user_id"]), OpGroup.objects.get(op_id=group["id"])
    raise AssertionError("the demo organisation has no plain team member")


def _members(org: FakeOrg, group: OpGroup) -> set[str]:
    found = next(g for g in org.data()["groups"] if g["id"] == group.op_id)
    return {m["user_id"] for m in found["members"]}


def test_the_privileged_identity_removes_the_person_from_the_group_in_1password(
    fake_org: FakeOrg, team_lead, approver, second_approver
):
    fake_org.account.privileged_token_env = PRIVILEGED_ENV
    fake_org.account.save()
    person, group = _team_member(fake_org)
    others = _members(fake_org, group) - {person.op_id}
    plan = approved_plan(
        account=fake_org.account,
        proposer=team_lead,
        approvers=[approver, second_approver],
        specs=[_spec(person, group)],
    )
    action = plan.actions.get()
    assert action.vault is None and action.identity == Identity.PRIVILEGED
    assert actions.is_risky(action)  # access goes: two approvers under the default policy

    run = execute.execute_plan(plan_id=plan.pk)

    action.refresh_from_db()
    assert action.status == Status.DONE, action.error
    assert _members(fake_org, group) == others  # only this person left; the group keeps the rest
    [call] = fake_org.write_calls("group user revoke")
    assert call["argv"][-4:] == ["--group", group.op_id, "--user", person.op_id]
    assert not GroupMembership.objects.filter(group=group, user=person).exists()
    assert run.follow_up_sync is not None and run.follow_up_sync.scope == "full"  # memberships are re-listed
    fake_org.sync()
    assert not GroupMembership.objects.filter(group=group, user=person).exists()
    assert GroupMembership.objects.filter(group=group).count() == len(others)


def test_without_a_privileged_identity_an_administrator_clicks_it_and_the_sync_verifies(
    fake_org: FakeOrg, team_lead, approver, second_approver, admin_user, django_capture_on_commit_callbacks
):
    person, group = _team_member(fake_org)
    plan = approved_plan(
        account=fake_org.account,
        proposer=team_lead,
        approvers=[approver, second_approver],
        specs=[_spec(person, group)],
    )
    action = plan.actions.get()
    assert action.identity == Identity.MANUAL and "cannot manage groups" in action.identity_reason
    steps = manual_steps.instructions(action)
    assert f"1Password → Groups → “{group.name}” → Members → remove {person.name} ({person.email})" in steps[1]

    execute.execute_plan(plan_id=plan.pk)
    action.refresh_from_db()
    assert action.status == Status.MANUAL and fake_org.write_calls() == []

    # Marked done, not done: the sync still lists the membership.
    with django_capture_on_commit_callbacks(execute=True):
        execute.mark_manual_done(action=action, user=admin_user)
    action.refresh_from_db()
    assert action.status == Status.MANUAL_DONE and "does not show the change" in action.verification_note

    account_file.remove_group_member(fake_org.path, group.op_id, person.op_id)  # the administrator's click
    run = fake_org.sync()
    execute.reconcile_after_sync(plan_id=plan.pk, sync_run_id=run.pk)
    action.refresh_from_db()
    assert action.status == Status.VERIFIED


def _fake_op(org: FakeOrg, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OP_SERVICE_ACCOUNT_TOKEN": token}
    return subprocess.run(
        [str(REPO_ROOT / "bin" / "fake-op"), "--format", "json", *args],
        env=env, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip


def test_the_fake_op_refuses_a_service_account_and_unknown_groups_or_users_like_op(fake_org: FakeOrg):
    person, group = _team_member(fake_org)
    data = fake_org.data()
    service_token, admin_token = data["tokens"][0]["token"], data["tokens"][3]["token"]

    refused = _fake_op(
        fake_org, service_token, "group", "user", "revoke", "--group", group.op_id, "--user", person.op_id
    )
    assert refused.returncode == 4 and "(403) Forbidden" in refused.stderr
    unknown = _fake_op(
        fake_org, admin_token, "group", "user", "revoke", "--group", "No Such Group", "--user", person.op_id
    )
    assert unknown.returncode == 1
    assert '"No Such Group" isn\'t a group in this account. Specify the group with its UUID or name.' in unknown.stderr
    stranger = _fake_op(fake_org, admin_token, "group", "user", "revoke", "--group", group.op_id, "--user", "nobody@x")
    assert stranger.returncode == 1 and "isn't a user in this account" in stranger.stderr
    assert person.op_id in _members(fake_org, group)  # none of these changed anything


def test_a_refused_privileged_identity_turns_the_removal_into_a_manual_step(
    fake_org: FakeOrg, team_lead, approver, second_approver
):
    # The "privileged" token is the service account's: 1Password refuses it (403), so a person does it.
    fake_org.account.privileged_token_env = "OP_SERVICE_ACCOUNT_TOKEN"
    fake_org.account.save()
    person, group = _team_member(fake_org)
    plan = approved_plan(
        account=fake_org.account,
        proposer=team_lead,
        approvers=[approver, second_approver],
        specs=[_spec(person, group)],
    )

    execute.execute_plan(plan_id=plan.pk)

    action = plan.actions.get()
    assert action.status == Status.MANUAL and action.identity == Identity.MANUAL
    assert "refused the privileged identity" in action.error
    assert person.op_id in _members(fake_org, group)


def test_the_command_builder_names_group_and_user_by_id_only():
    command = commands.group_user_revoke("g" * 26, "U" * 26)
    assert command.argv("op") == [
        "op",
        "--format",
        "json",
        "group",
        "user",
        "revoke",
        "--group",
        "g" * 26,
        "--user",
        "U" * 26,
    ]
    assert command.is_write
    with pytest.raises(OpInvalidArgument):
        commands.group_user_revoke("--user=everyone-else-xxxxxxx", "U" * 26)


# --- who may propose it ------------------------------------------------------------------------


@pytest.fixture
def org(db: None, team_lead, admin_user) -> dict[str, object]:
    account = make_account(name="Scoped")
    mine = make_vault(account=account, name="Lead Vault", owner=team_lead)
    also_mine = make_vault(account=account, name="Lead Second", owner=team_lead)
    theirs = make_vault(account=account, name="Finance", owner=admin_user)
    gone = make_vault(account=account, name="Old", owner=admin_user, removed_at=plans.timezone.now())
    person = make_op_user(account=account, name="Pat Person", email="pat@example.com")
    inside = make_op_group(account=account, name="Leads Team", members=[person])
    grant(vault=mine, group=inside)
    grant(vault=also_mine, group=inside)
    grant(vault=gone, group=inside)  # a removed vault's grant reaches nothing
    mixed = make_op_group(account=account, name="Mixed", members=[person])
    grant(vault=mine, group=mixed)
    grant(vault=theirs, group=mixed)
    empty = make_op_group(account=account, name="No Vaults", members=[person])
    admins = make_op_group(account=account, name="Administrators", members=[person])
    grant(vault=mine, group=admins)
    return {"account": account, "person": person, "inside": inside, "mixed": mixed, "empty": empty, "admins": admins}


def test_only_an_admin_proposes_a_group_removal_a_lead_never_even_inside_their_vaults(org, team_lead, admin_user):
    person = org["person"]
    for group in (org["inside"], org["mixed"], org["empty"], org["admins"]):
        with pytest.raises(scope.OutsideVaultScope, match="Only an admin removes people from"):
            scope.check_specs(team_lead, [_spec(person, group)])
        scope.check_specs(admin_user, [_spec(person, group)])  # an admin proposes anywhere

    # Decoy: the lead's own revocation on their own vault beside it stays in scope.
    revoke = plans.ActionSpec(Kind.REVOKE_USER, org["inside"].grants.order_by("vault__name").first().vault, op_user=person,
                              params={"permissions": ["view_items"]})
    kept, notes = scope.keep_in_scope(team_lead, [_spec(person, org["inside"]), revoke])
    assert kept == [revoke] and len(notes) == 1 and "Leads Team" in notes[0]


def test_a_group_removal_answers_to_the_strictest_policy_of_the_vaults_the_group_reaches(org, admin_user):
    from vaults.cleanup import approval
    from vaults.findings.models import Policy

    Policy.global_policy()
    Policy.objects.filter(vault=None).update(risky_actions_need_second_approver=False, approval_ttl_hours=72)
    plan = plans.create_plan(account=org["account"], proposed_by=admin_user, title="t",
                             specs=[_spec(org["person"], org["inside"]), _spec(org["person"], org["mixed"])])
    inside, mixed = plan.actions.order_by("position")
    assert approval.required_approvals(inside) == approval.required_approvals(mixed) == 1

    finance = next(v for v in actions.group_vaults(org["mixed"].pk) if v.name == "Finance")
    Policy.objects.create(vault=finance, risky_actions_need_second_approver=True, approval_ttl_hours=4)

    assert approval.required_approvals(mixed) == 2  # Mixed reaches Finance
    assert approval.required_approvals(inside) == 1  # decoy: Leads Team does not


def test_only_a_membership_removal_may_omit_the_vault(org, team_lead):
    plan = plans.create_plan(
        account=org["account"], proposed_by=team_lead, specs=[_spec(org["person"], org["inside"])], title="t"
    )
    action = plan.actions.get()
    assert action.vault is None and action.vault_name == "group Leads Team"
    assert actions.touched_vaults(action) == []
    assert actions.group_vault_names(action) == ["Lead Second", "Lead Vault"]
    with pytest.raises(IntegrityError), transaction.atomic():
        ProposedAction.objects.filter(pk=action.pk).update(kind=Kind.REVOKE_USER)


def test_the_plan_and_dry_run_pages_show_the_removal_with_its_command_and_clicks(org, team_lead, approver, client_for):
    from django.urls import reverse

    plan = plans.create_plan(
        account=org["account"], proposed_by=team_lead, specs=[_spec(org["person"], org["inside"])], title="Leaver"
    )
    plans.submit_plan(plan=plan, user=team_lead)

    page = client_for(approver).get(reverse("cleanup:plan", args=[plan.pk])).content.decode()
    dry = client_for(approver).get(reverse("cleanup:dry_run", args=[plan.pk])).content.decode()

    assert "Remove from group" in page and "Pat Person from group Leads Team" in page
    assert f"op --format json group user revoke --group {org['inside'].op_id} --user {org['person'].op_id}" in page
    assert "Groups → “Leads Team” → Members → remove Pat Person (pat@example.com)" in page
    assert "Lead Second, Lead Vault" in page  # what the person loses with the group
    assert "manual step" in dry
