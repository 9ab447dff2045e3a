"""The vault scope of end dates (sponsorship.py), withdrawing a removal when its end date moves or
is cleared (withdraw.py), the two humans a system proposal needs (cleanup/approval.py), and the
"first day without access" boundary shared by the finding and the daily job. Real PostgreSQL."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from compliance.models import AuditLogEntry
from tests.vaults.access_expiry.conftest import end_date
from tests.vaults.factories import grant, make_op_user, make_vault
from vaults.access_expiry import daily, schedule
from vaults.access_expiry.models import AccessEndDate
from vaults.cleanup.approval import ApprovalRefused, approve_action
from vaults.cleanup.models import CleanupPlan, ProposedAction
from vaults.findings import access_end_date
from vaults.findings.models import Policy
from vaults.models import Vault

pytestmark = pytest.mark.django_db


@pytest.fixture
def run_daily(django_capture_on_commit_callbacks):
    def run(account, now=None):
        with django_capture_on_commit_callbacks(execute=True):
            return daily.run_access_expiry(account=account, now=now)

    return run


@pytest.fixture
def lead_vault(account, team_lead) -> Vault:
    return make_vault(account=account, name="Team Dev", owner=team_lead)


@pytest.fixture
def foreign_vault(account) -> Vault:
    return make_vault(account=account, name="Finance Production", classification=Vault.Classification.PRODUCTION)


def _in(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


# --- 1. a lead's whole-access end date: their part in their name, the rest by the expiry identity


def test_the_part_outside_a_leads_vaults_is_proposed_by_the_expiry_identity_and_needs_two_humans(
    account, lead_vault, foreign_vault, team_lead, approver, second_approver, run_daily
) -> None:
    Policy.objects.create(vault=lead_vault, risky_actions_need_second_approver=False)
    Policy.objects.create(vault=foreign_vault, risky_actions_need_second_approver=False)
    person = make_op_user(account=account, name="Casey Contractor")
    grant(vault=lead_vault, user=person)
    grant(vault=foreign_vault, user=person)
    row = end_date(person, days=0, sponsor=team_lead)

    run_daily(account)

    row.refresh_from_db()
    assert [a.vault for a in row.removal_plan.actions.all()] == [lead_vault]
    assert row.removal_plan.proposed_by == team_lead
    outside = row.outside_scope_plan
    assert outside is not None and outside.proposed_by.username == daily.EXPIRY_USERNAME
    [foreign_action] = outside.actions.all()
    assert foreign_action.vault == foreign_vault and "1 vault(s) outside the sponsor's" in row.removal_note
    # The removal of the foreign grant is not lost, and no lead's name is on it: two humans approve it.
    assert approve_action(action=foreign_action, approver=approver).status == ProposedAction.Status.PROPOSED
    assert approve_action(action=foreign_action, approver=second_approver).status == ProposedAction.Status.APPROVED
    # Decoy: the lead's own plan under the same waived policy still needs one approver only.
    [own_action] = row.removal_plan.actions.all()
    assert approve_action(action=own_action, approver=approver).status == ProposedAction.Status.APPROVED
    entry = AuditLogEntry.objects.get(action="access_expiry.removal_proposed")
    assert entry.details["outside_scope_plan"] == outside.pk


def test_an_admin_sponsor_proposes_everything_in_one_plan(
    account, lead_vault, foreign_vault, admin_user, run_daily
) -> None:
    person = make_op_user(account=account)
    grant(vault=lead_vault, user=person)
    grant(vault=foreign_vault, user=person)
    row = end_date(person, days=-1, sponsor=admin_user)

    run_daily(account)

    row.refresh_from_db()
    assert {a.vault for a in row.removal_plan.actions.all()} == {lead_vault, foreign_vault}
    assert row.outside_scope_plan is None and row.removal_plan.proposed_by == admin_user


# --- 2. choosing vaults


def test_set_end_date_refuses_a_vault_outside_the_sponsors_scope_whatever_sent_it(
    account, lead_vault, foreign_vault, team_lead, admin_user
) -> None:
    person = make_op_user(account=account)
    common: dict[str, Any] = {"op_user": person, "ends_on": _in(10), "reason": ""}

    with pytest.raises(schedule.EndDateRefused, match="Finance Production"):
        schedule.set_end_date(**common, vaults=[lead_vault, foreign_vault], sponsor=team_lead, actor=team_lead)
    assert not AccessEndDate.objects.exists()

    mine = schedule.set_end_date(**common, vaults=[lead_vault], sponsor=team_lead, actor=team_lead)  # decoy
    admins = schedule.set_end_date(**common, vaults=[foreign_vault], sponsor=admin_user, actor=admin_user)
    assert {mine.pk, admins.pk} == set(AccessEndDate.objects.values_list("pk", flat=True))


def test_the_form_offers_a_lead_only_their_vaults_and_an_admin_every_vault(
    account, lead_vault, foreign_vault, team_lead, admin_user, client_for
) -> None:
    person = make_op_user(account=account)
    url = f"/vaults/people/{person.pk}/"

    as_lead = client_for(team_lead).get(url).content.decode().split('id="end-date"')[1]
    as_admin = client_for(admin_user).get(url).content.decode().split('id="end-date"')[1]

    assert f'value="{lead_vault.pk}"' in as_lead and f'value="{foreign_vault.pk}"' not in as_lead
    assert f'value="{lead_vault.pk}"' in as_admin and f'value="{foreign_vault.pk}"' in as_admin
    assert "first day without access" in as_lead


# --- 3. clearing and moving someone else's end date


def test_who_may_clear_an_end_date_someone_else_sponsors(
    account, lead_vault, foreign_vault, team_lead, admin_user, make_user
) -> None:
    from openclaw_web.roles import Role

    other_lead = make_user("olga_lead", Role.TEAM_LEAD)
    person = make_op_user(account=account)
    grant(vault=lead_vault, user=person)
    on_lead_vault = end_date(person, days=5, vaults=[lead_vault], sponsor=admin_user)
    whole = end_date(person, days=5, sponsor=admin_user)

    with pytest.raises(schedule.EndDateRefused, match="sponsor"):
        schedule.clear_end_date(end_date=on_lead_vault, actor=other_lead)
    # The owner of every vault it covers may (decoy), a lead who does not own all of them may not.
    schedule.clear_end_date(end_date=on_lead_vault, actor=team_lead)
    grant(vault=foreign_vault, user=person)
    with pytest.raises(schedule.EndDateRefused, match="do not own"):
        schedule.clear_end_date(end_date=whole, actor=team_lead)
    with pytest.raises(schedule.EndDateRefused):
        schedule.set_end_date(op_user=person, ends_on=_in(300), vaults=None, sponsor=team_lead, actor=team_lead,
                              reason="postponed")  # fmt: skip
    whole.refresh_from_db()
    assert whole.ends_on == _in(5) and whole.sponsor == admin_user and whole.status == AccessEndDate.Status.SCHEDULED
    schedule.clear_end_date(end_date=whole, actor=admin_user)  # an admin may
    assert AccessEndDate.objects.filter(status=AccessEndDate.Status.CLEARED).count() == 2


def test_the_sponsor_clears_their_own_end_date_on_any_vault(account, foreign_vault, team_lead) -> None:
    person = make_op_user(account=account)
    grant(vault=foreign_vault, user=person)
    row = end_date(person, days=5, sponsor=team_lead)  # whole access, set before ownership mattered

    schedule.clear_end_date(end_date=row, actor=team_lead)

    row.refresh_from_db()
    assert row.status == AccessEndDate.Status.CLEARED


# --- 5a. withdrawing the removal when the end date moves or is cleared


def _ended_with_plan(account, person, sponsor, vaults, run_daily) -> AccessEndDate:
    for vault in vaults:
        grant(vault=vault, user=person)
    row = end_date(person, days=-1, sponsor=sponsor)
    run_daily(account)
    row.refresh_from_db()
    assert row.status == AccessEndDate.Status.ENDED and row.removal_plan is not None
    return row


def test_extending_an_ended_end_date_withdraws_the_unapproved_removal(
    account, lead_vault, foreign_vault, team_lead, approver, second_approver, run_daily
) -> None:
    person = make_op_user(account=account, name="Casey Contractor")
    row = _ended_with_plan(account, person, team_lead, [lead_vault, foreign_vault], run_daily)
    plan, outside = row.removal_plan, row.outside_scope_plan
    approved_elsewhere = make_vault(account=account, name="Team Ops", owner=team_lead)
    # Decoy: an action two people already approved is theirs to stop, not the end date's.
    extra = plan.actions.create(kind=ProposedAction.Kind.REVOKE_USER, vault=approved_elsewhere, op_user=person,
                                identity=ProposedAction.Identity.SERVICE_ACCOUNT, status=ProposedAction.Status.APPROVED)  # fmt: skip

    schedule.set_end_date(op_user=person, ends_on=_in(30), vaults=None, sponsor=team_lead, actor=team_lead,
                          reason="contract extended")  # fmt: skip

    row.refresh_from_db()
    assert row.status == AccessEndDate.Status.SCHEDULED and row.removal_plan is None and row.outside_scope_plan is None
    withdrawn = ProposedAction.objects.filter(plan__in=[plan, outside], status=ProposedAction.Status.REJECTED)
    assert withdrawn.count() == 2 and all("moved from" in a.error for a in withdrawn)
    extra.refresh_from_db()
    assert extra.status == ProposedAction.Status.APPROVED
    with pytest.raises(ApprovalRefused):
        approve_action(action=outside.actions.get(), approver=approver)
    outside.refresh_from_db()
    assert outside.status == CleanupPlan.Status.REJECTED
    entries = AuditLogEntry.objects.filter(action="access_expiry.removal_withdrawn").order_by("seq")
    assert [(e.actor, e.details["plan"]) for e in entries] == [(team_lead, plan.pk), (team_lead, outside.pk)]
    # When the new date comes, a fresh removal is proposed.
    AccessEndDate.objects.filter(pk=row.pk).update(ends_on=_in(-1))
    run_daily(account)
    row.refresh_from_db()
    assert row.removal_plan is not None and row.removal_plan.pk not in {plan.pk, outside.pk}


def test_moving_an_ended_date_to_another_past_day_keeps_the_removal(account, lead_vault, team_lead, run_daily) -> None:
    person = make_op_user(account=account)
    row = _ended_with_plan(account, person, team_lead, [lead_vault], run_daily)

    schedule.set_end_date(op_user=person, ends_on=_in(-3), vaults=None, sponsor=team_lead, actor=team_lead, reason="")

    row.refresh_from_db()
    assert row.removal_plan is not None and row.removal_plan.actions.get().status == ProposedAction.Status.PROPOSED
    assert not AuditLogEntry.objects.filter(action="access_expiry.removal_withdrawn").exists()


def test_clearing_or_a_guest_becoming_a_member_withdraws_the_removal(account, lead_vault, team_lead, run_daily) -> None:
    person = make_op_user(account=account)
    row = _ended_with_plan(account, person, team_lead, [lead_vault], run_daily)
    guest = make_op_user(account=account, name="Gail Guest", user_type="GUEST")
    grant(vault=lead_vault, user=guest)
    default = end_date(guest, days=-1, is_default=True)
    run_daily(account)
    default.refresh_from_db()

    schedule.clear_end_date(end_date=row, actor=team_lead)
    guest.user_type = "MEMBER"
    guest.save(update_fields=["user_type"])
    run_daily(account)

    for plan in (row.removal_plan, default.removal_plan):
        assert [a.status for a in plan.actions.all()] == [ProposedAction.Status.REJECTED]
    whys = {
        e.details["why"]: (e.actor, e.actor_label)
        for e in AuditLogEntry.objects.filter(action="access_expiry.removal_withdrawn")
    }
    assert whys["the end date was cleared"][0] == team_lead
    assert whys["no longer a guest: the guest default no longer applies"] == (None, "access expiry")


# --- 5b. "ends on" is the first day without access, the same day for the finding and the job


@pytest.mark.parametrize(("days", "ended"), [(0, True), (1, False)])
def test_the_finding_and_the_removal_come_on_the_end_date_not_the_day_before(
    account, lead_vault, team_lead, run_daily, days, ended
) -> None:
    person = make_op_user(account=account)
    grant(vault=lead_vault, user=person)
    row = end_date(person, days=days, sponsor=team_lead)
    now = timezone.now()

    found = access_end_date.find(account=account, now=now)
    run_daily(account, now)

    row.refresh_from_db()
    assert bool(found) is ended and (row.removal_plan is not None) is ended
    assert row.status == (AccessEndDate.Status.ENDED if ended else AccessEndDate.Status.SCHEDULED)


@override_settings(TIME_ZONE="Pacific/Auckland")
@pytest.mark.parametrize(("local_offset", "ended"), [(0, True), (1, False)])
def test_the_end_date_is_read_in_the_configured_time_zone(
    account, lead_vault, team_lead, run_daily, local_offset, ended
) -> None:
    # 20:00 UTC on 1 March is already 2 March in Auckland: a UTC reading would be a day late.
    now = datetime.datetime(2026, 3, 1, 20, 0, tzinfo=datetime.UTC)
    local_day = now.astimezone(zoneinfo.ZoneInfo("Pacific/Auckland")).date()
    assert local_day == datetime.date(2026, 3, 2)
    person = make_op_user(account=account)
    grant(vault=lead_vault, user=person)
    row = AccessEndDate.objects.create(account=account, op_user=person, sponsor=team_lead,
                                       ends_on=local_day + datetime.timedelta(days=local_offset))  # fmt: skip

    found = access_end_date.find(account=account, now=now)
    run_daily(account, now)

    row.refresh_from_db()
    assert bool(found) is ended and (row.removal_plan is not None) is ended


def test_the_clear_button_shows_only_to_those_who_may_clear(
    account, foreign_vault, team_lead, admin_user, client_for
) -> None:
    person = make_op_user(account=account)
    grant(vault=foreign_vault, user=person)
    row = end_date(person, days=5, vaults=[foreign_vault], sponsor=admin_user)
    clear = f"/vaults/people/end-dates/{row.pk}/clear/"

    assert clear not in client_for(team_lead).get(f"/vaults/people/{person.pk}/").content.decode()
    assert clear in client_for(admin_user).get(f"/vaults/people/{person.pk}/").content.decode()
