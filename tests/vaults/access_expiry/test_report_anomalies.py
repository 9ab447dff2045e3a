"""The contractor report's anomalies: "used after the end date" judged by the event's day in
TIME_ZONE (the day the end date is written in: near midnight the UTC day is the wrong one), and
the hour-based ones from the compliance reports' detector, over every vault the person used."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.test import override_settings

from tests.vaults.factories import grant, make_item, make_op_user, make_usage
from vaults.access_expiry.models import AccessEndDate
from vaults.access_expiry.report import build_report
from vaults.models import ItemUsage

pytestmark = pytest.mark.django_db
MONDAY = datetime.date(2026, 11, 23)
AFTER = "Used after the end date"


def _after_the_end(account, vault, zone: str, *uses: datetime.datetime) -> list[str]:
    person = make_op_user(account=account, name="Casey Contractor")
    grant(vault=vault, user=person)
    AccessEndDate.objects.create(account=account, op_user=person, covers_all=True, ends_on=MONDAY,
                                 status=AccessEndDate.Status.ENDED)  # fmt: skip
    item = make_item(vault=vault, title="Build Token")
    for when in uses:
        make_usage(account=account, user=person, item=item, when=when)
    with override_settings(TIME_ZONE=zone):
        [row] = build_report(account=account, now=datetime.datetime(2026, 11, 25, 12, tzinfo=datetime.UTC)).rows
    return [a.explanation for a in row.anomalies if a.label == AFTER]


def test_sunday_2330_in_new_york_is_before_a_monday_end(account, dev_vault) -> None:
    ny = zoneinfo.ZoneInfo("America/New_York")
    # 04:30 UTC on Monday, still Sunday in New York: a decoy.
    sunday_night = datetime.datetime(2026, 11, 22, 23, 30, tzinfo=ny)

    assert _after_the_end(account, dev_vault, "America/New_York", sunday_night) == []


def test_monday_0030_in_berlin_is_after_a_monday_end(account, dev_vault) -> None:
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    # 23:30 UTC on Sunday, already Monday in Berlin: a use after the end.
    monday_early = datetime.datetime(2026, 11, 23, 0, 30, tzinfo=berlin)
    sunday_late = datetime.datetime(2026, 11, 22, 23, 30, tzinfo=berlin)  # decoy: an hour before, Sunday

    assert _after_the_end(account, dev_vault, "Europe/Berlin", monday_early, sunday_late) == [
        "1 use on or after 2026-11-23, the date this access ended."
    ]


def _usage_at(account, person, item, when: datetime.datetime, n: int, ip: str = "198.51.100.7") -> None:
    for i in range(n):
        ItemUsage.objects.create(account=account, uuid=f"{person.op_id}-{ip}-{when:%H%M}-{i}", user_op_id=person.op_id,
                                 user_email=person.email, item_op_id=item.op_id, vault_op_id=item.vault.op_id,
                                 timestamp=when + datetime.timedelta(seconds=30 * i), action="reveal", client_ip=ip)  # fmt: skip


def test_the_detector_flags_bursts_and_several_addresses_in_any_vault(account, dev_vault) -> None:
    now = datetime.datetime(2026, 11, 25, 18, tzinfo=datetime.UTC)
    busy = make_op_user(account=account, name="Busy Contractor", user_type="GUEST")
    calm = make_op_user(account=account, name="Calm Contractor", user_type="GUEST")
    item = make_item(vault=dev_vault, title="Build Token")  # not production: still judged
    noon = datetime.datetime(2026, 11, 24, 12, tzinfo=datetime.UTC)
    _usage_at(account, busy, item, noon, 20)  # BURST_EVENTS in one hour
    _usage_at(account, busy, item, noon + datetime.timedelta(minutes=40), 1, ip="203.0.113.9")
    # Decoys: one use short of a burst, at midday, from one address, an hour apart from the rest.
    _usage_at(account, calm, item, noon, 19)
    _usage_at(account, calm, item, noon + datetime.timedelta(hours=2), 1)

    rows = {row.person.name: {a.label: a.explanation for a in row.anomalies} for row in
            build_report(account=account, now=now).rows}  # fmt: skip

    assert rows["Busy Contractor"]["Burst of use"] == "21 uses within one hour (2026-11-24 12:00 UTC; threshold 20)."
    assert rows["Busy Contractor"]["Several addresses at once"] == "2 addresses within one hour (2026-11-24 12:00 UTC)."
    assert "Off-hours use" not in rows["Busy Contractor"]
    assert not {"Burst of use", "Several addresses at once", "Off-hours use"} & set(rows["Calm Contractor"])


def test_a_night_use_is_off_hours_in_utc(account, dev_vault) -> None:
    night_owl = make_op_user(account=account, name="Night Owl", user_type="GUEST")
    item = make_item(vault=dev_vault, title="Build Token")
    _usage_at(account, night_owl, item, datetime.datetime(2026, 11, 24, 23, 15, tzinfo=datetime.UTC), 2)

    [row] = build_report(account=account, now=datetime.datetime(2026, 11, 25, 12, tzinfo=datetime.UTC)).rows

    assert [(a.label, a.explanation) for a in row.anomalies] == [("Off-hours use", "2 uses between 22:00 and 06:00 UTC.")]
