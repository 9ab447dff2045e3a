"""The person page's end dates (set, move, clear: audited, refused where they must be), the vault
page's grant link, and the contractor report page with hostile names and each anomaly."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from compliance.models import AuditLogEntry
from tests.security.hostile_org import RAW_MARKERS
from tests.vaults.access_expiry.conftest import end_date
from tests.vaults.factories import grant, make_item, make_op_user, make_usage
from vaults.access_expiry.models import AccessEndDate
from vaults.access_expiry.schedule import ensure_guest_defaults
from vaults.models import ItemUsage, OpUser
from vaults.models.history import UserSpan

pytestmark = pytest.mark.django_db

HOSTILE_NAME = "<script>alert('contractor')</script> \u202eMallory"
HOSTILE_TITLE = '=HYPERLINK("http://evil.example","x") <img src=x onerror=alert(1)>'


def _in(days: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


def test_a_lead_sets_a_whole_access_end_date_and_becomes_its_sponsor(account, prod_vault, team_lead, client_for) -> None:
    person = make_op_user(account=account, name="Casey Contractor")

    response = client_for(team_lead).post(f"/vaults/people/{person.pk}/end-date/",
                                          {"ends_on": _in(30), "scope": "all", "reason": "Contract ACME-42"})  # fmt: skip

    assert response.status_code == 302 and response["Location"].endswith(f"/vaults/people/{person.pk}/#end-dates")
    row = AccessEndDate.objects.get(op_user=person)
    assert (row.covers_all, row.sponsor, row.created_by, row.reason) == (True, team_lead, team_lead, "Contract ACME-42")
    entry = AuditLogEntry.objects.get(action="access_expiry.set")
    assert entry.actor == team_lead and entry.details["ends_on"] == _in(30) and entry.details["covers_all"] is True


def test_setting_the_same_scope_again_moves_the_date_and_resets_the_reminder(account, prod_vault, team_lead, client_for) -> None:
    prod_vault.owner = team_lead  # a lead chooses among the vaults they own
    prod_vault.save(update_fields=["owner"])
    person = make_op_user(account=account)
    client = client_for(team_lead)
    client.post(f"/vaults/people/{person.pk}/end-date/", {"ends_on": _in(3), "scope": "vaults", "vaults": [prod_vault.pk]})
    AccessEndDate.objects.update(reminded_at=timezone.now())

    client.post(f"/vaults/people/{person.pk}/end-date/", {"ends_on": _in(40), "scope": "vaults", "vaults": [prod_vault.pk]})

    [row] = AccessEndDate.objects.filter(op_user=person)
    assert row.ends_on.isoformat() == _in(40) and row.reminded_at is None and not row.covers_all
    assert list(row.vaults.all()) == [prod_vault]
    assert AuditLogEntry.objects.filter(action="access_expiry.set").order_by("seq").last().details["previous_ends_on"] == _in(3)


def test_an_end_date_for_a_service_account_or_without_vaults_is_refused(account, prod_vault, admin_user, client_for) -> None:
    robot = make_op_user(account=account, user_type="SERVICE_ACCOUNT")
    person = make_op_user(account=account)
    client = client_for(admin_user)

    client.post(f"/vaults/people/{robot.pk}/end-date/", {"ends_on": _in(3), "scope": "all"})
    client.post(f"/vaults/people/{person.pk}/end-date/", {"ends_on": _in(3), "scope": "vaults"})

    assert not AccessEndDate.objects.exists() and not AuditLogEntry.objects.filter(action="access_expiry.set").exists()


def test_clearing_is_audited_but_a_guest_keeps_an_end_date(account, admin_user, client_for) -> None:
    person = make_op_user(account=account)
    guest = make_op_user(account=account, user_type="GUEST")
    member_end, guest_end = end_date(person, days=10), end_date(guest, days=10, is_default=True)
    client = client_for(admin_user)

    client.post(f"/vaults/people/end-dates/{member_end.pk}/clear/")
    client.post(f"/vaults/people/end-dates/{guest_end.pk}/clear/")

    member_end.refresh_from_db()
    guest_end.refresh_from_db()
    assert member_end.status == AccessEndDate.Status.CLEARED and member_end.cleared_by == admin_user
    assert guest_end.status == AccessEndDate.Status.SCHEDULED
    assert [e.target_id for e in AuditLogEntry.objects.filter(action="access_expiry.cleared")] == [str(person.pk)]


def test_a_guest_gets_a_default_end_date_from_when_openclaw_first_saw_them(account, now=None) -> None:
    now = timezone.now()
    guest = make_op_user(account=account, user_type="GUEST")
    UserSpan.objects.create(account=account, op_id=guest.op_id, user_type="GUEST", valid_from=now - datetime.timedelta(days=30),
                            valid_to=now - datetime.timedelta(days=10))  # fmt: skip
    UserSpan.objects.create(account=account, op_id=guest.op_id, user_type="GUEST", valid_from=now - datetime.timedelta(days=10))
    member = make_op_user(account=account)
    bounded = make_op_user(account=account, user_type="GUEST")
    end_date(bounded, days=5)

    assert ensure_guest_defaults(account=account, now=now) == (1, 0)
    assert ensure_guest_defaults(account=account, now=now) == (0, 0)

    [row] = AccessEndDate.objects.filter(op_user=guest)
    assert row.is_default and row.sponsor is None and row.covers_all
    assert row.ends_on == timezone.localdate(now - datetime.timedelta(days=30)) + datetime.timedelta(days=90)
    assert not AccessEndDate.objects.filter(op_user=member).exists()
    assert AccessEndDate.objects.filter(op_user=bounded).count() == 1
    OpUser.objects.filter(pk=guest.pk).update(user_type="MEMBER")  # promoted in 1Password
    assert ensure_guest_defaults(account=account, now=now) == (0, 1)


def test_the_person_page_shows_the_form_to_leads_and_not_to_viewers(account, prod_vault, team_lead, viewer, client_for) -> None:
    prod_vault.owner = team_lead  # the form offers a lead the vaults they own
    prod_vault.save(update_fields=["owner"])
    person = make_op_user(account=account)
    end_date(person, days=-2, is_default=True)

    as_lead = client_for(team_lead).get(f"/vaults/people/{person.pk}/?end_vault={prod_vault.pk}").content.decode()
    as_viewer = client_for(viewer).get(f"/vaults/people/{person.pk}/").content.decode()

    checkbox = as_lead.split(f'value="{prod_vault.pk}"')[1].split(">")[0]
    assert 'id="end-date"' in as_lead and "checked" in checkbox
    assert "Access end dates" in as_viewer and 'id="end-date"' not in as_viewer and ">default<" in as_viewer


def test_the_vault_page_links_a_grant_to_the_person_end_date_form(account, prod_vault, admin_user, client_for) -> None:
    person = make_op_user(account=account)
    grant(vault=prod_vault, user=person)

    html = client_for(admin_user).get(f"/vaults/{prod_vault.pk}/").content.decode()

    assert f"/vaults/people/{person.pk}/?end_vault={prod_vault.pk}#end-date" in html


def test_the_report_lists_contractors_with_usage_and_anomalies_escaped(
    account, prod_vault, dev_vault, team_lead, auditor, client_for
) -> None:
    now = timezone.now()
    contractor = make_op_user(account=account, name=HOSTILE_NAME, email="mallory@vendor.example")
    grant(vault=prod_vault, user=contractor)
    grant(vault=dev_vault, user=contractor)
    end_date(contractor, days=-1, sponsor=team_lead, reason=HOSTILE_TITLE)
    key = make_item(vault=prod_vault, title=HOSTILE_TITLE)
    dev_item = make_item(vault=dev_vault, title="Build Development Token")
    # Baseline: office hours from one address in the four weeks before.
    for days in (10, 17, 24):
        ItemUsage.objects.create(account=account, uuid=f"b{days}", timestamp=now - datetime.timedelta(days=days),
                                 user_op_id=contractor.op_id, item_op_id=dev_item.op_id, vault_op_id=dev_vault.op_id,
                                 action="fill", client_ip="198.51.100.7", country="GB")  # fmt: skip
    # This week: a night, a new address and country, production, twelve uses.
    night = (now - datetime.timedelta(days=1)).replace(hour=2, minute=30)
    for n in range(12):
        ItemUsage.objects.create(account=account, uuid=f"w{n}", timestamp=night + datetime.timedelta(minutes=n),
                                 user_op_id=contractor.op_id, item_op_id=key.op_id, vault_op_id=prod_vault.op_id,
                                 action="reveal" if n % 2 else "secure-copy", client_ip="203.0.113.9", country="KP")  # fmt: skip
    calm = make_op_user(account=account, name="Calm Guest", user_type="GUEST")
    end_date(calm, days=60, is_default=True)
    for days in (9, 16):
        make_usage(account=account, user=calm, item=dev_item, when=(now - datetime.timedelta(days=days)).replace(hour=11))
    make_usage(account=account, user=calm, item=dev_item, when=(now - datetime.timedelta(days=2)).replace(hour=11))
    make_op_user(account=account, name="Regular Member")  # decoy: no end date, not a guest

    html = client_for(auditor).get("/vaults/people/contractors/").content.decode()

    assert all(marker not in html for marker in RAW_MARKERS) and "&lt;script&gt;alert" in html
    assert "Calm Guest" in html and "Regular Member" not in html
    contractor_card = html.split(f'data-contractor="{contractor.pk}"')[1].split("</section>")[0]
    for label in ("Used after the end date", "New address", "New country", "Production use", "Off-hours use", "Volume spike"):
        assert label in contractor_card, label
    assert "12 uses on or after" in contractor_card and "203.0.113.9" in contractor_card
    assert "Reveal 6" in contractor_card and "Secure copy 6" in contractor_card
    calm_card = html.split(f'data-contractor="{calm.pk}"')[1].split("</section>")[0]
    assert "Anomalies" not in calm_card and "1 use of 1 item in the last 7 days" in calm_card
    only = client_for(auditor).get("/vaults/people/contractors/?anomalies=on").content.decode()
    assert "Calm Guest" not in only and "mallory@vendor.example" in only


def test_the_weekly_mail_goes_once_a_week_to_sponsors_for_their_people_and_to_officers_for_everyone(
    account, prod_vault, team_lead, compliance_officer, make_user, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    from openclaw_web.roles import Role
    from vaults.access_expiry.weekly import send_weekly_report

    other_lead = make_user("olga_lead", Role.TEAM_LEAD)
    for user, address in ((team_lead, "tom@example.com"), (compliance_officer, "carol@example.com"),
                          (other_lead, "olga@example.com")):  # fmt: skip
        user.email = address
        user.save()
    mine = make_op_user(account=account, name=HOSTILE_NAME)
    grant(vault=prod_vault, user=mine)
    end_date(mine, days=20, sponsor=team_lead)
    theirs = make_op_user(account=account, name="Olga's Contractor")
    end_date(theirs, days=20, sponsor=other_lead)
    now = timezone.now()

    sent = send_weekly_report(now=now) + send_weekly_report(now=now)

    by_recipient = {m.to[0]: m.body for m in mailoutbox}
    assert sent == 3 and sorted(by_recipient) == ["carol@example.com", "olga@example.com", "tom@example.com"]
    assert "Olga's Contractor" not in by_recipient["tom@example.com"] and "Mallory" in by_recipient["tom@example.com"]
    assert "Olga's Contractor" in by_recipient["carol@example.com"] and "Mallory" in by_recipient["carol@example.com"]
    assert "\n<script>" not in by_recipient["carol@example.com"]  # names stay on their line
    assert send_weekly_report(now=now + datetime.timedelta(days=7)) == 3  # next week: again
