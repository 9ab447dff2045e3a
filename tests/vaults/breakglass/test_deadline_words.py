"""The break-glass pages say a deadline is due only while it is: a reason or a rotation whose time
has passed reads "missing"/"overdue since <when>", months later too; one still running reads
"due by <when>". The moment is record.reason_due_at, the one the emergency_reason_missing finding
uses."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse

from tests.vaults.breakglass.conftest import use
from vaults.breakglass import record
from vaults.breakglass.models import EmergencyUse
from vaults.models import Item, OpUser

pytestmark = pytest.mark.django_db
H = datetime.timedelta(hours=1)


def _event(item: Item, person: OpUser, when: datetime.datetime) -> EmergencyUse:
    use(item, person, when)
    [created] = record.record_uses(account=item.vault.account)
    return created


def _stamp(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _pages(client, event: EmergencyUse) -> tuple[str, str]:
    detail = client.get(reverse("breakglass:detail", args=[event.pk])).content.decode()
    listing = client.get(reverse("breakglass:list")).content.decode()
    row = listing.split(f'href="{reverse("breakglass:detail", args=[event.pk])}"', 1)[1].split("</tr>", 1)[0]
    return detail, re.sub(r"<[^>]+>", "", row)  # the row's words, without the tags that keep dates whole


def test_a_months_old_event_without_reason_or_rotation_says_both_are_overdue(root_login, dana, now, viewer, client_for):
    event = _event(root_login, dana, now - 90 * 24 * H)
    due = record.reason_due_at(event)

    detail, row = _pages(client_for(viewer), event)

    assert due == event.first_used_at + record.reason_hours() * H
    assert f"missing: overdue since {_stamp(due)} UTC" in detail and "none yet" not in detail and "due by" not in detail
    assert "(passed: rotation overdue)" in detail
    assert f"missing since {_stamp(due)}" in row and f"overdue since {_stamp(event.rotation_due_at)}" in row
    assert "due by" not in row


def test_an_event_of_two_hours_ago_says_when_each_is_due_and_nothing_is_overdue(
    root_login, dana, now, viewer, client_for
):
    event = _event(root_login, dana, now - 2 * H)
    due = record.reason_due_at(event)

    detail, row = _pages(client_for(viewer), event)

    assert f"none yet: due by {_stamp(due)} UTC" in detail
    assert "overdue" not in detail and "missing" not in detail and "passed" not in detail
    assert f"requested, due by {_stamp(due)}" in row and f"due by {_stamp(event.rotation_due_at)}" in row
    assert "overdue" not in row and "missing" not in row


def test_a_reason_given_after_its_deadline_is_marked_late_and_one_in_time_is_not(root_login, dana, now, viewer,
                                                                                client_for):  # fmt: skip
    late = _event(root_login, dana, now - 100 * H)
    EmergencyUse.objects.filter(pk=late.pk).update(reason="INC-1: restored", reason_at=late.first_used_at + 30 * H)
    in_time = _event(root_login, dana, now - 50 * H)
    EmergencyUse.objects.filter(pk=in_time.pk).update(reason="INC-2: restored", reason_at=in_time.first_used_at + H)
    client = client_for(viewer)

    late_page = client.get(reverse("breakglass:detail", args=[late.pk])).content.decode()
    in_time_page = client.get(reverse("breakglass:detail", args=[in_time.pk])).content.decode()

    assert f"(late: it was due by {_stamp(record.reason_due_at(late))})" in late_page
    assert "late: it was due by" not in in_time_page and "missing" not in in_time_page


def test_the_reason_turns_missing_exactly_when_the_finding_would_open(root_login, dana, now) -> None:
    event = _event(root_login, dana, now - 2 * H)
    due = record.reason_due_at(event)

    for moment, expected in ((due - datetime.timedelta(seconds=1), "waiting"), (due, "missing")):
        assert record.reason_state(event, moment) == expected
        assert EmergencyUse.objects.filter(record.missing_reason(moment), pk=event.pk).exists() == (
            expected == "missing"
        )
