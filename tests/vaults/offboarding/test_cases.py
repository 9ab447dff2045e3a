from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from compliance.models import AuditLogEntry
from tests.vaults.factories import make_account, make_op_user
from tests.vaults.offboarding.world import at, build_world
from vaults.cleanup.models import CleanupPlan, ProposedAction
from vaults.models import GroupMembership, SecretField, VaultGrant
from vaults.offboarding import actions, cases, completion
from vaults.offboarding.models import OffboardingCase
from vaults.offboarding.removals import propose_access_removals

pytestmark = pytest.mark.django_db


def test_open_case_is_idempotent_and_sets_sla_and_lookback(settings, admin_user) -> None:
    settings.OFFBOARDING_SLA_DAYS = 5
    settings.OFFBOARDING_LOOKBACK_DAYS = 30
    person = make_op_user(account=make_account())
    leave = datetime.date(2026, 3, 2)
    first = cases.open_case(person, leave_date=leave, reason=OffboardingCase.Reason.MARKED_LEAVING, opened_by=admin_user)
    again = cases.open_case(person, leave_date=leave + datetime.timedelta(days=9), reason=OffboardingCase.Reason.MARKED_LEAVING)
    assert again.pk == first.pk and again.leave_date == leave
    assert first.due_date == datetime.date(2026, 3, 7) and first.lookback_days == 30
    assert AuditLogEntry.objects.filter(action="offboarding.case_opened").count() == 1


def test_a_service_account_gets_no_case() -> None:
    robot = make_op_user(account=make_account(), user_type="SERVICE_ACCOUNT")
    with pytest.raises(cases.CaseRefused):
        cases.open_case(robot, leave_date=timezone.now().date(), reason=OffboardingCase.Reason.MARKED_LEAVING)


def test_overdue_is_computed_from_the_due_date() -> None:
    person = make_op_user(account=make_account())
    case = cases.open_case(person, leave_date=datetime.date(2026, 1, 1), reason=OffboardingCase.Reason.MARKED_LEAVING)
    assert not case.is_overdue(datetime.date(2026, 1, 8))  # the due date itself is in time
    assert case.is_overdue(datetime.date(2026, 1, 9))
    OffboardingCase.objects.filter(pk=case.pk).update(status="completed", completed_at=timezone.now())
    case.refresh_from_db()
    assert not case.is_overdue(datetime.date(2026, 1, 9)) and case.met_sla is False


def test_create_actions_turns_lines_into_rotations_grants_into_revocations_and_groups_into_removals(
    team_lead, admin_user
) -> None:
    w = build_world()
    case = cases.open_case(w.lena, leave_date=w.now.date(), reason=OffboardingCase.Reason.MARKED_LEAVING)
    created = actions.create_actions(case=case, user=admin_user)
    plan = created.plan
    assert plan.status == CleanupPlan.Status.PROPOSED and plan.proposed_by == admin_user
    got = [(a.kind, a.item.title if a.item else a.vault_name) for a in plan.actions.select_related("item", "vault", "op_group").order_by("position")]
    assert got == [
        ("revoke_user", "Marketing"),
        ("revoke_user", "Payments Prod"),
        ("remove_group_member", "group Engineering"),  # not "Old Team": that group was removed
        ("rotate_secret", "Stripe Live Key"),
        ("rotate_secret", "Adyen Key"),
        ("rotate_secret", "Prod DB"),
        ("rotate_secret", "CI Token"),
        ("rotate_secret", "Twitter"),
        ("rotate_secret", "Staging DB"),
    ]
    case.refresh_from_db()
    assert case.plan == plan
    with pytest.raises(cases.CaseRefused):
        actions.create_actions(case=case, user=admin_user)  # once per case


def test_a_case_completes_only_when_secrets_changed_and_access_is_gone(admin_user) -> None:
    w = build_world()
    case = cases.open_case(w.lena, leave_date=w.now.date(), reason=OffboardingCase.Reason.MARKED_LEAVING)
    assert completion.blockers(case) == ["6 secrets to rotate: create the actions.", *_access_left()]
    created = actions.create_actions(case=case, user=admin_user)
    case.refresh_from_db()
    ProposedAction.objects.filter(plan=created.plan, kind__in=["revoke_user", "remove_group_member"]).update(status="done")
    VaultGrant.objects.filter(user=w.lena).delete()
    assert completion.refresh(case).is_open
    # The next sync shows new fingerprints for every rotated item ...
    for n, field in enumerate(SecretField.objects.filter(item__in=[a.item for a in created.plan.actions.filter(kind="rotate_secret")])):
        SecretField.objects.filter(pk=field.pk).update(fingerprint=f"{n:064x}")
    # The group removal ran, but until a sync shows the membership gone the case stays open.
    assert completion.blockers(case) == [
        "Still a member of the group “Engineering”: its removal is an action of the plan; "
        "the next sync after it runs confirms it."
    ]
    # ... and no longer the group membership.
    GroupMembership.objects.filter(user=w.lena).delete()
    case = completion.refresh(case)
    assert case.status == OffboardingCase.Status.COMPLETED and case.met_sla is True
    assert AuditLogEntry.objects.filter(action="offboarding.case_completed").count() == 1


def _access_left() -> list[str]:
    return [
        "Direct access to “Marketing” remains.",
        "Direct access to “Payments Prod” remains.",
        "Still a member of the group “Engineering”: create the actions to propose removing them "
        "(or remove them in 1Password → Groups).",
    ]


def test_propose_access_removals_revokes_direct_grants_in_the_given_vaults(team_lead, approver) -> None:
    w = build_world()
    plan = propose_access_removals(w.lena, proposed_by=team_lead, reason="contract ended", vaults=[w.prod, w.dev])
    assert plan is not None and plan.status == CleanupPlan.Status.PROPOSED
    assert [(a.kind, a.vault.name, a.param("permissions")) for a in plan.actions.all()] == [
        ("revoke_user", "Payments Prod", ["view_and_copy_passwords", "view_items"]),
    ]
    assert propose_access_removals(w.lena, proposed_by=team_lead, reason="x", vaults=[w.dev]) is None  # group only


def test_the_case_window_runs_from_the_lookback_to_the_leave_date() -> None:
    person = make_op_user(account=make_account())
    case = cases.open_case(person, leave_date=timezone.now().date() + datetime.timedelta(days=3), reason="marked_leaving")
    since, until = cases.window(case)
    assert since.date() == case.leave_date - datetime.timedelta(days=90)
    assert until.date() == case.leave_date and at(0, until) == until


def test_only_open_cases_past_their_sla_raise_an_alert_condition() -> None:
    from vaults.offboarding.alerts import alert_conditions

    account = make_account()
    today = timezone.now().date()
    late = cases.open_case(make_op_user(account=account, name="Late Leaver"), leave_date=today - datetime.timedelta(days=9),
                           reason="marked_leaving")
    cases.open_case(make_op_user(account=account, name="In Time"), leave_date=today - datetime.timedelta(days=7),
                    reason="marked_leaving")  # due today: not yet overdue
    done = cases.open_case(make_op_user(account=account, name="Done Late"), leave_date=today - datetime.timedelta(days=30),
                           reason="marked_leaving")
    OffboardingCase.objects.filter(pk=done.pk).update(status="completed", completed_at=timezone.now())
    conditions = alert_conditions(account)
    assert [(c.kind, c.key, c.url, c.details["days_overdue"]) for c in conditions] == [
        ("offboarding_overdue", f"offboarding:{late.pk}", f"/offboarding/{late.pk}/", 2)
    ]
    assert conditions[0].title == "Offboarding of Late Leaver is 2 days past its SLA"
