"""Counts and durations read like English: "1 item", "2 items", "17 s" — never "(s)" or "0 minutes"."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from tests.vaults.factories import make_account, make_finding, make_sync_run
from vaults.templatetags.inventory_ui import ago, duration

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 11, 27, 9, 0, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0, "0 s"), (17, "17 s"), (59.6, "1 min"), (60, "1 min"), (125, "2 min 5 s"), (3600, "1 h"), (3780, "1 h 3 min")],
)
def test_a_duration_is_read_to_the_second_below_a_minute(seconds, expected):
    assert duration(T0, T0 + datetime.timedelta(seconds=seconds)) == expected


def test_an_unfinished_run_has_no_duration():
    assert duration(T0, None) == "—"


@pytest.mark.parametrize(
    ("seconds_ago", "expected"),
    [(0, "just now"), (17, "just now"), (59, "just now"), (61, "1 minute ago"), (3 * 3600 + 5, "3 hours ago")],
)
def test_a_moment_under_a_minute_ago_is_just_now_never_zero_minutes(seconds_ago, expected):
    assert ago(timezone.now() - datetime.timedelta(seconds=seconds_ago)).replace("\xa0", " ") == expected


def test_the_dashboard_says_just_now_for_a_sync_that_finished_seconds_ago(client_for, admin_user):
    run = make_sync_run(account=make_account(), status="succeeded")
    now = timezone.now()
    type(run).objects.filter(pk=run.pk).update(started_at=now - datetime.timedelta(seconds=17), finished_at=now)
    page = client_for(admin_user).get(reverse("dashboard")).content.decode()
    assert "just now" in page and "0 minutes" not in page


def test_the_sync_page_says_17_s_and_counts_in_the_singular_and_plural(client_for, viewer):
    account = make_account(name="Acme")
    started = timezone.now() - datetime.timedelta(minutes=5)
    make_sync_run(account=account, started_at=started, finished_at=started + datetime.timedelta(seconds=17),
                  counts={"vaults_changed": 1, "items_fetched": 1, "users": 2})
    make_sync_run(account=account, started_at=started, finished_at=started + datetime.timedelta(seconds=3),
                  counts={"vaults_changed": 0, "items_fetched": 3, "users": 1})

    body = client_for(viewer).get(reverse("sync:status")).content.decode()

    assert "17 s" in body and "0 minutes" not in body
    assert "1 vault, 1 item, 2 users" in body
    assert "0 vaults, 3 items, 1 user</td>" in body
    assert "1 vaults" not in body and "1 items" not in body


@pytest.mark.parametrize(("n", "expected"), [(1, "Reopened 1 finding."), (2, "Reopened 2 findings.")])
def test_the_reopen_message_pluralises(client_for, team_lead, n, expected):
    account = make_account()
    findings = [make_finding(account=account, status="accepted") for _ in range(n)]

    response = client_for(team_lead).post(reverse("findings:reopen"), {"ids": [f.pk for f in findings]})

    assert [str(m) for m in get_messages(response.wsgi_request)] == [expected]
