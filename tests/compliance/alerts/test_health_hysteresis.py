"""Health-score alerts clear only after a real recovery (threshold + HEALTH_RECOVERY_POINTS):
a score wobbling around the threshold alerts once; a fall after a real recovery alerts again."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from compliance.alerts.evaluate import HEALTH_RECOVERY_POINTS, evaluate_account
from compliance.alerts.models import AlertDelivery, AlertState
from tests.compliance.alerts.factories import make_channel, make_rule
from tests.vaults import factories as f
from vaults.findings.models import HealthSnapshot

pytestmark = pytest.mark.django_db


def _raised_per_sync(account, scores: list[int], *, vault=None) -> list[int]:
    start = timezone.now() - datetime.timedelta(hours=len(scores))
    raised = []
    for i, score in enumerate(scores):
        moment = start + datetime.timedelta(hours=i)
        HealthSnapshot.objects.create(account=account, vault=vault, taken_at=moment, score=score, items=100)
        raised.append(evaluate_account(account=account, now=moment).raised)
    return raised


def _rule(**fields):
    return make_rule(kind="health_below", threshold=60, channels=[make_channel(kind="email")],
                     created_at=timezone.now() - datetime.timedelta(days=1), **fields)  # fmt: skip


def test_scores_inside_the_recovery_band_keep_one_alert_open_and_silent() -> None:
    assert HEALTH_RECOVERY_POINTS == 2
    account = f.make_account(name="acme")
    _rule()

    assert _raised_per_sync(account, [59, 60, 61, 60, 58, 61]) == [1, 0, 0, 0, 0, 0]
    state = AlertState.objects.get()
    assert state.cleared_at is None and AlertDelivery.objects.count() == 1


def test_a_fall_after_a_real_recovery_alerts_again() -> None:
    """Decoy the other way: hysteresis must not swallow a real second drop."""
    account = f.make_account(name="acme")
    _rule()

    assert _raised_per_sync(account, [59, 62, 59]) == [1, 0, 1]
    states = list(AlertState.objects.order_by("raised_at"))
    assert len(states) == 2 and states[0].cleared_at is not None and states[1].cleared_at is None


def test_a_vaults_wobble_does_not_hold_the_organisation_alert_open() -> None:
    """The band is per scope: the organisation recovered to 70 while one vault sits at 60; the
    organisation's alert clears and a later organisation drop alerts again."""
    account = f.make_account(name="acme")
    vault = f.make_vault(account=account, name="Prod")
    _rule()
    start = timezone.now() - datetime.timedelta(hours=3)
    raised = []
    for i, (org, vault_score) in enumerate([(59, 59), (70, 60), (59, 60)]):
        moment = start + datetime.timedelta(hours=i)
        HealthSnapshot.objects.create(account=account, taken_at=moment, score=org, items=100)
        HealthSnapshot.objects.create(account=account, vault=vault, taken_at=moment, score=vault_score, items=10)
        raised.append(evaluate_account(account=account, now=moment).raised)
    assert raised == [1, 0, 1]
