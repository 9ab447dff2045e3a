"""A leaver's group memberships become approval-gated `remove_group_member` actions: one per live
group, never for the built-in group everyone is in, OpenClaw's own identity or a service account,
and a lead's plan only for groups wholly inside the vaults they own."""

from __future__ import annotations

import pytest

from tests.vaults.factories import add_member, grant, make_op_group, make_op_user
from tests.vaults.offboarding.world import build_world
from vaults.cleanup import approval
from vaults.cleanup.approval import ApprovalRefused
from vaults.cleanup.models import ProposedAction
from vaults.offboarding import actions, cases
from vaults.offboarding.models import OffboardingCase
from vaults.offboarding.removals import membership_specs

pytestmark = pytest.mark.django_db

Kind = ProposedAction.Kind


def _removals(plan) -> list[str]:
    rows = plan.actions.filter(kind=Kind.REMOVE_GROUP_MEMBER).select_related("op_group", "op_user")
    return [f"{a.op_user.name} from {a.op_group.name}" for a in rows.order_by("position")]


def test_the_leavers_plan_removes_them_from_each_live_group_but_not_the_built_in_one(admin_user, approver) -> None:
    w = build_world()
    make_op_group(account=w.account, name="Team Members", members=[w.lena, w.other])  # 1Password's everyone group
    ops = make_op_group(account=w.account, name="Ops On Call", members=[w.lena, w.other])
    grant(vault=w.finance, group=ops)
    case = cases.open_case(w.lena, leave_date=w.now.date(), reason=OffboardingCase.Reason.MARKED_LEAVING)

    plan = actions.create_actions(case=case, user=admin_user).plan

    assert _removals(plan) == ["Lena Leaver from Engineering", "Lena Leaver from Ops On Call"]
    assert all(a.vault is None and a.status == "proposed" for a in plan.actions.filter(kind=Kind.REMOVE_GROUP_MEMBER))
    # The proposer cannot approve them; someone else can.
    action = plan.actions.filter(kind=Kind.REMOVE_GROUP_MEMBER).order_by("position")[0]
    with pytest.raises(ApprovalRefused):
        approval.approve_action(action=action, approver=admin_user)
    approval.approve_action(action=action, approver=approver)
    assert action.approvals.count() == 1


def test_no_removal_is_proposed_for_the_sync_identity_or_a_service_account() -> None:
    w = build_world()
    robot = make_op_user(account=w.account, name="CI Robot", user_type="SERVICE_ACCOUNT")
    engineering = w.lena.memberships.get(group__name="Engineering").group
    add_member(group=engineering, user=robot)
    add_member(group=engineering, user=w.other)
    w.account.service_account_user_uuid = w.other.op_id  # Omar's account is the one OpenClaw syncs with
    w.account.save(update_fields=["service_account_user_uuid"])

    assert membership_specs(robot) == [] and membership_specs(w.other) == []
    assert [s.op_group for s in membership_specs(w.lena)] == [engineering]  # the true case beside the decoys


def test_a_lead_leaves_every_group_removal_to_an_admin_even_for_groups_inside_their_vaults(team_lead, admin_user) -> None:
    w = build_world()
    for vault in (w.prod, w.dev, w.marketing):
        vault.owner = team_lead
        vault.save(update_fields=["owner"])
    mixed = make_op_group(account=w.account, name="Mixed", members=[w.lena])
    grant(vault=w.dev, group=mixed)
    grant(vault=w.finance, group=mixed)  # not the lead's
    case = cases.open_case(w.lena, leave_date=w.now.date(), reason=OffboardingCase.Reason.MARKED_LEAVING)

    created = actions.create_actions(case=case, user=team_lead)

    # A group may reach vaults OpenClaw does not see: even Engineering (wholly in the lead's vaults,
    # as far as OpenClaw knows) is left out, with the reason on the plan.
    assert _removals(created.plan) == []
    assert sum("Only an admin removes people from" in note for note in created.skipped) == 2
    case.refresh_from_db()
    remaining, _ = actions.remaining_specs(case)
    assert sorted(s.op_group.name for s in remaining if s.kind == Kind.REMOVE_GROUP_MEMBER) == ["Engineering", "Mixed"]

    rest = actions.create_actions(case=case, user=admin_user)  # the admin's further plan has them

    assert sorted(_removals(rest.plan)) == ["Lena Leaver from Engineering", "Lena Leaver from Mixed"]
