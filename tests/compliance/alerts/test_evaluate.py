"""One alert per new condition: decoys that look like a condition and are not, the same
condition seen again, a condition that clears and comes back, and two evaluations racing."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from compliance.alerts import evaluate
from compliance.alerts.models import AlertDelivery, AlertState
from compliance.models import AuditLogEntry
from compliance.reviews.models import AccessReview
from tests.compliance.alerts.factories import make_channel, make_rule
from tests.vaults.factories import (
    make_account,
    make_finding,
    make_item,
    make_op_user,
    make_snapshot,
    make_usage,
    make_vault,
)
from vaults.findings.models import Finding
from vaults.models import Vault

pytestmark = pytest.mark.django_db

HEALTH = "health_below"


def _alerts(rule):
    return list(AlertState.objects.filter(rule=rule).order_by("pk"))


def test_a_vault_below_its_threshold_alerts_once_however_often_it_is_seen():
    account = make_account()
    payments, other = make_vault(account=account, name="Payments"), make_vault(account=account, name="Other")
    channel = make_channel()
    rule = make_rule(kind=HEALTH, threshold=70, vault=payments, account=account, channels=[channel])
    now = timezone.now()
    make_snapshot(account=account, score=95, when=now)
    make_snapshot(account=account, vault=payments, score=54, when=now)
    make_snapshot(account=account, vault=other, score=20, when=now)  # decoy: another vault, far below

    first = evaluate.evaluate_account(account=account)
    again = evaluate.evaluate_account(account=account)

    [state] = _alerts(rule)
    assert state.vault_id == payments.pk and state.details["score"] == 54
    assert "Payments" in state.title and "54" in state.title
    assert (first.raised, again.raised, again.still_open) == (1, 0, 1)
    assert AlertDelivery.objects.filter(state=state, channel=channel).count() == 1
    assert AuditLogEntry.objects.filter(action="alerts.raised").count() == 1


def test_a_condition_that_clears_and_comes_back_alerts_again():
    account = make_account()
    vault = make_vault(account=account)
    rule = make_rule(kind=HEALTH, threshold=70, vault=vault, channels=[make_channel()])
    start = timezone.now()
    make_snapshot(account=account, vault=vault, score=50, when=start)
    evaluate.evaluate_account(account=account, now=start)
    make_snapshot(account=account, vault=vault, score=80, when=start + datetime.timedelta(hours=1))
    cleared = evaluate.evaluate_account(account=account, now=start + datetime.timedelta(hours=1))
    make_snapshot(account=account, vault=vault, score=60, when=start + datetime.timedelta(hours=2))
    back = evaluate.evaluate_account(account=account, now=start + datetime.timedelta(hours=2))

    first, second = _alerts(rule)
    assert cleared.cleared == 1 and first.cleared_at == start + datetime.timedelta(hours=1)
    assert back.raised == 1 and second.cleared_at is None and second.details["score"] == 60
    assert AlertDelivery.objects.filter(state__rule=rule).count() == 2


def test_an_organisation_rule_reads_the_organisation_score_not_a_vault_score():
    account = make_account()
    vault = make_vault(account=account)
    rule = make_rule(kind=HEALTH, threshold=70, channels=[make_channel()])
    now = timezone.now()
    make_snapshot(account=account, score=90, when=now)
    make_snapshot(account=account, vault=vault, score=10, when=now)
    assert evaluate.evaluate_account(account=account, now=now).raised == 0

    later = now + datetime.timedelta(minutes=5)
    make_snapshot(account=account, score=69, when=later)  # the organisation itself drops below
    make_snapshot(account=account, vault=vault, score=10, when=later)
    assert evaluate.evaluate_account(account=account, now=later).raised == 1
    assert _alerts(rule)[0].vault_id is None


def test_exactly_at_the_threshold_is_not_below_it():
    account = make_account()
    make_rule(kind=HEALTH, threshold=70, channels=[make_channel()])
    make_snapshot(account=account, score=70)
    assert evaluate.evaluate_account(account=account).raised == 0


def test_only_new_high_findings_alert_a_high_finding_rule():
    account = make_account()
    vault = make_vault(account=account)
    rule_created = timezone.now()
    backlog = make_finding(account=account, severity="high", title="Old backlog", vault=vault)
    Finding.objects.filter(pk=backlog.pk).update(first_seen=rule_created - datetime.timedelta(days=30))
    rule = make_rule(kind="new_high_finding", channels=[make_channel()], created_at=rule_created)
    new_high = make_finding(account=account, severity="high", title="Fresh weak key", vault=vault)
    make_finding(account=account, severity="medium", title="Medium decoy", vault=vault)
    resolved = make_finding(account=account, severity="high", title="Resolved decoy", vault=vault)
    Finding.objects.filter(pk=resolved.pk).update(status=Finding.Status.RESOLVED)

    evaluate.evaluate_account(account=account)
    evaluate.evaluate_account(account=account)

    [state] = _alerts(rule)
    assert state.key == f"finding:{new_high.pk}" and "Fresh weak key" in state.title


def test_a_vault_rule_alerts_on_a_high_finding_across_vaults_that_names_its_vault():
    """A production secret stored outside production has no vault of its own; the production
    vault's rule alerts on it, as its score counts it. Decoys: another vault's own finding, and
    a finding across two other vaults."""
    account = make_account()
    prod, dev, other = (make_vault(account=account, name=n) for n in ("Prod", "Dev", "Other"))
    rule = make_rule(kind="new_high_finding", vault=prod, account=account, channels=[make_channel()],
                     created_at=timezone.now() - datetime.timedelta(minutes=1))  # fmt: skip
    shared = make_finding(account=account, kind=Finding.Kind.SHARED_ACROSS_ENVIRONMENTS, severity="high",
                          title="Production secret reused outside production", details={"vault_ids": [dev.pk, prod.pk]})  # fmt: skip
    make_finding(account=account, severity="high", title="Other vault's own", vault=other)
    make_finding(account=account, kind=Finding.Kind.DUPLICATE, severity="high", title="Across two others",
                 details={"vault_ids": [dev.pk, other.pk]})  # fmt: skip

    evaluate.evaluate_account(account=account)

    [state] = _alerts(rule)
    assert state.key == f"finding:{shared.pk}" and state.vault_id is None


def test_a_disabled_rule_raises_nothing_and_a_disabled_channel_gets_nothing():
    account = make_account()
    make_snapshot(account=account, score=20)
    off_rule = make_rule(kind=HEALTH, threshold=70, channels=[make_channel()], enabled=False)
    quiet_channel = make_channel(enabled=False)
    on_rule = make_rule(kind=HEALTH, threshold=70, channels=[quiet_channel])

    evaluate.evaluate_account(account=account)

    assert _alerts(off_rule) == []
    assert len(_alerts(on_rule)) == 1
    assert not AlertDelivery.objects.exists()


def test_a_rule_of_another_account_stays_silent():
    mine, theirs = make_account(name="Mine"), make_account(name="Theirs")
    make_snapshot(account=mine, score=20)
    rule = make_rule(kind=HEALTH, threshold=70, account=theirs, channels=[make_channel()])
    evaluate.evaluate_account(account=mine)
    assert _alerts(rule) == []


def _review(account, admin_user, *, ended_days_ago: int, status: str = AccessReview.Status.OPEN) -> AccessReview:
    end = timezone.now() - datetime.timedelta(days=ended_days_ago)
    return AccessReview.objects.create(
        account=account, title=f"Review ended {ended_days_ago} days ago", period="2026Q1", period_start=end - datetime.timedelta(days=90),
        period_end=end, opened_by=admin_user, opened_at=end, status=status,
    )  # fmt: skip


def test_a_review_not_signed_off_a_month_after_its_period_is_overdue(admin_user):
    account = make_account()
    overdue = _review(account, admin_user, ended_days_ago=45)
    _review(account, admin_user, ended_days_ago=10)  # decoy: still within its month
    _review(account, admin_user, ended_days_ago=60, status=AccessReview.Status.SIGNED_OFF)  # decoy: done
    awaiting = _review(account, admin_user, ended_days_ago=50, status=AccessReview.Status.AWAITING_SECOND)
    rule = make_rule(kind="review_overdue", channels=[make_channel()])

    evaluate.evaluate_account(account=account)

    assert sorted(s.key for s in _alerts(rule)) == sorted([f"review:{overdue.pk}", f"review:{awaiting.pk}"])


def test_a_burst_of_production_access_is_an_anomaly_and_a_few_uses_are_not():
    account = make_account()
    prod = make_vault(account=account, name="Prod", classification=Vault.Classification.PRODUCTION)
    item = make_item(vault=prod)
    burst, calm = make_op_user(account=account, email="burst@example.com"), make_op_user(account=account, name="Calm", email="calm@example.com")
    # The latest whole hour of daytime (06:00-21:00 UTC: "unusual hours" stays out of this test)
    # inside the alerts' 24-hour window, whatever the time the test runs at.
    hour = timezone.now().replace(minute=0, second=0, microsecond=0) - datetime.timedelta(hours=2)
    while not 6 <= hour.hour <= 20:
        hour -= datetime.timedelta(hours=1)
    for minute in range(25):
        make_usage(account=account, user=burst, item=item, when=hour + datetime.timedelta(minutes=minute))
    for minute in range(3):
        make_usage(account=account, user=calm, item=item, when=hour + datetime.timedelta(minutes=minute))
    rule = make_rule(kind="anomaly", channels=[make_channel()])

    evaluate.evaluate_account(account=account)
    evaluate.evaluate_account(account=account)

    [state] = _alerts(rule)
    assert "Burst of access" in state.title and "burst@example.com" in state.title
    assert state.details["events"] == 25


def test_a_failing_source_keeps_its_open_alerts_and_others_still_run(monkeypatch):
    account = make_account()
    make_snapshot(account=account, score=20)
    health = make_rule(kind=HEALTH, threshold=70, channels=[make_channel()])
    evaluate.evaluate_account(account=account)

    def broken(account, *, now, since=None):
        raise RuntimeError("source down")

    monkeypatch.setitem(evaluate.SOURCES, HEALTH, broken)
    evaluate.evaluate_account(account=account)

    [state] = _alerts(health)
    assert state.cleared_at is None  # not cleared by a source that could not look


@pytest.mark.django_db(transaction=True)
def test_two_evaluations_racing_raise_the_condition_once():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")
    account = make_account()
    make_snapshot(account=account, score=20)
    rule = make_rule(kind=HEALTH, threshold=70, channels=[make_channel()])
    barrier = threading.Barrier(4)
    results: list[int] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(evaluate.evaluate_account(account=account).raised)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [0, 0, 0, 1]
    assert len(_alerts(rule)) == 1
    assert AlertDelivery.objects.count() == 1
