"""The dashboard: score and trend, findings per kind with quarter deltas, worst vaults, syncs."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.vaults.factories import make_account, make_finding, make_snapshot, make_sync_run, make_vault
from vaults import inventory
from vaults.findings.models import Finding
from vaults.models import SyncRun

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User], Client]


@pytest.fixture
def client(viewer: User, client_for: ClientFor) -> Client:
    return client_for(viewer)


def test_anonymous_visitors_are_sent_to_sign_in() -> None:
    response = Client().get(reverse("dashboard"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_admin_without_accounts_is_told_how_to_add_one(admin_user: User, client_for: ClientFor) -> None:
    body = client_for(admin_user).get(reverse("dashboard")).content.decode()
    assert "No 1Password account is connected yet" in body
    assert "manage.py add_account" in body


def test_viewer_without_accounts_is_told_to_ask_an_administrator(client: Client) -> None:
    body = client.get(reverse("dashboard")).content.decode()
    assert "An administrator needs to connect an account" in body
    assert "manage.py add_account" not in body


def test_account_without_snapshots_points_to_the_sync_page(client: Client) -> None:
    make_account(name="acme")
    body = client.get(reverse("dashboard")).content.decode()
    assert "No health score yet" in body
    assert reverse("sync:status") in body
    assert "never synced" in body


def test_dashboard_shows_the_latest_score_with_its_band_and_a_trend_chart(client: Client) -> None:
    acct = make_account(name="acme")
    now = timezone.now()
    make_snapshot(account=acct, score=50, when=now - datetime.timedelta(days=60))
    make_snapshot(account=acct, score=93, when=now)
    body = client.get(reverse("dashboard")).content.decode()
    assert '<span class="score-big">93</span>' in body
    assert "band-healthy" in body and "Healthy" in body
    assert '<svg class="chart"' in body and "Health score over time" in body


def test_dashboard_links_the_how_computed_explanation_when_present(client: Client) -> None:
    make_snapshot(account=make_account(), score=80)
    body = client.get(reverse("dashboard")).content.decode()
    assert ("How is this computed?" in body) == inventory_template_exists("findings/_how_computed.html")


def inventory_template_exists(name: str) -> bool:
    from django.template import TemplateDoesNotExist
    from django.template.loader import get_template

    try:
        get_template(name)
    except TemplateDoesNotExist:
        return False
    return True


def test_counts_per_kind_compare_with_the_last_snapshot_before_this_quarter() -> None:
    acct = make_account()
    now = timezone.now()
    start = inventory.quarter_start(now)
    make_snapshot(account=acct, score=60, when=start - datetime.timedelta(days=40), counts={"weak": 9, "orphaned": 1})
    make_snapshot(account=acct, score=70, when=start - datetime.timedelta(days=1), counts={"weak": 5, "orphaned": 1})
    make_snapshot(account=acct, score=80, when=now, counts={"weak": 100})  # this quarter: not the baseline
    for _ in range(2):
        make_finding(account=acct, kind=Finding.Kind.WEAK)
    make_finding(account=acct, kind=Finding.Kind.ORPHANED, severity=Finding.Severity.LOW)
    make_finding(account=acct, kind=Finding.Kind.WEAK, status=Finding.Status.RESOLVED)
    rows = {row.kind: row for row in inventory.counts_by_kind(now)}
    assert (rows["weak"].open_now, rows["weak"].last_quarter, rows["weak"].delta) == (2, 5, -3)
    assert rows["orphaned"].delta == 0
    assert rows["duplicate"].delta == 0


def test_without_a_snapshot_before_this_quarter_there_is_no_delta() -> None:
    acct = make_account()
    make_snapshot(account=acct, score=80, counts={"weak": 1})
    make_finding(account=acct, kind=Finding.Kind.WEAK)
    rows = {row.kind: row for row in inventory.counts_by_kind()}
    assert rows["weak"].open_now == 1 and rows["weak"].delta is None


def test_quarter_start_is_the_first_day_of_the_calendar_quarter() -> None:
    moment = datetime.datetime(2026, 5, 17, 13, 5, tzinfo=datetime.UTC)
    assert inventory.quarter_start(moment) == datetime.datetime(2026, 4, 1, tzinfo=datetime.UTC)
    assert inventory.quarter_start(datetime.datetime(2026, 12, 31, tzinfo=datetime.UTC)).month == 10


def test_dashboard_shows_fewer_findings_as_an_improvement(client: Client) -> None:
    acct = make_account()
    start = inventory.quarter_start(timezone.now())
    make_snapshot(account=acct, score=60, when=start - datetime.timedelta(days=3), counts={"weak": 4})
    make_snapshot(account=acct, score=80)
    make_finding(account=acct, kind=Finding.Kind.WEAK)
    body = client.get(reverse("dashboard")).content.decode()
    assert "delta-better" in body and "▼ 3 fewer" in body


def test_worst_vaults_are_the_five_lowest_scores_linked_to_their_pages(client: Client) -> None:
    acct = make_account()
    make_snapshot(account=acct, score=70)
    vaults = [
        make_vault(account=acct, name=f"Vault score {score}") for score in (10, 20, 30, 40, 50, 60, 99)
    ]
    for v, score in zip(vaults, (10, 20, 30, 40, 50, 60, 99), strict=True):
        make_snapshot(account=acct, score=score, vault=v)
    worst = inventory.worst_vaults()
    assert [v.score_value for v in worst] == [10, 20, 30, 40, 50]  # type: ignore[attr-defined]  # annotated by the query
    body = client.get(reverse("dashboard")).content.decode()
    assert reverse("vaults:detail", args=[vaults[0].pk]) in body
    assert "Vault score 99" not in body


def test_worst_vaults_use_each_vaults_latest_snapshot() -> None:
    acct = make_account()
    v = make_vault(account=acct, name="Improved")
    make_snapshot(account=acct, score=10, vault=v, when=timezone.now() - datetime.timedelta(days=5))
    make_snapshot(account=acct, score=95, vault=v)
    assert [w.score_value for w in inventory.worst_vaults()] == [95]  # type: ignore[attr-defined]  # annotated by the query


def test_last_sync_per_account_shows_status_and_op_calls(client: Client) -> None:
    acct = make_account(name="acme")
    now = timezone.now()
    make_sync_run(account=acct, status=SyncRun.Status.SUCCEEDED, op_calls=7, started_at=now, finished_at=now)
    make_sync_run(account=acct, status=SyncRun.Status.FAILED, op_calls=3, error="Token expired <b>x</b>",
                  started_at=now, finished_at=now)
    make_snapshot(account=acct, score=80)
    body = client.get(reverse("dashboard")).content.decode()
    assert "status-failed" in body and "Token expired &lt;b&gt;x&lt;/b&gt;" in body
    assert ">3</td>" in body


def test_hostile_vault_names_are_escaped_in_the_worst_vaults_chart(client: Client) -> None:
    acct = make_account(name='"><img src=x onerror=alert(1)>')
    make_snapshot(account=acct, score=50)
    v = make_vault(account=acct, name="<script>alert(1)</script>")
    make_snapshot(account=acct, score=5, vault=v)
    body = client.get(reverse("dashboard")).content.decode()
    assert "<script>alert" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_dashboard_queries_do_not_grow_with_rows(client: Client, django_assert_max_num_queries: Callable) -> None:
    def seed(n: int) -> None:
        for _ in range(n):
            acct = make_account()
            now = timezone.now()
            make_sync_run(account=acct, started_at=now, finished_at=now)
            for day in range(n * 3):
                when = timezone.now() - datetime.timedelta(days=day)
                make_snapshot(account=acct, score=50 + day, when=when, counts={"weak": day})
            for i in range(n):
                v = make_vault(account=acct, name=f"Vault {i}")
                make_snapshot(account=acct, score=40, vault=v)
                make_finding(account=acct, vault=v)

    seed(1)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        small = client.get(reverse("dashboard"))
    seed(4)
    with django_assert_max_num_queries(len(ctx.captured_queries)):
        big = client.get(reverse("dashboard"))
    # Both must be the real page: an error page runs few queries and would pass the cap.
    assert small.status_code == 200 and big.status_code == 200
    assert "across 1 connected 1Password account." in small.content.decode()
    assert "across 5 connected 1Password accounts." in big.content.decode()
