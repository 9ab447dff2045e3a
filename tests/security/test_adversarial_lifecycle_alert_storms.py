"""Adversarial review of issue #16: alert de-duplication (compliance/alerts/evaluate.py).
One alert per new condition; a condition that stays true must not alert again, and a score
wobbling by one point around a threshold must not page someone on every sync. Real PostgreSQL;
e-mail channel through Django's locmem backend (the real send path); no mocks.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from compliance.alerts import deliver
from compliance.alerts.evaluate import evaluate_account
from compliance.alerts.models import AlertDelivery, AlertState
from tests.compliance.alerts.factories import make_channel, make_rule
from tests.vaults import factories as f
from vaults.findings.models import HealthSnapshot

pytestmark = pytest.mark.django_db


def _evaluate_with_scores(account, scores: list[int]) -> list[int]:
    """One findings run per score (a new organisation snapshot), then the evaluation; returns the
    number of alerts raised by each."""
    start = timezone.now() - datetime.timedelta(hours=len(scores))
    raised = []
    for i, score in enumerate(scores):
        moment = start + datetime.timedelta(hours=i)
        HealthSnapshot.objects.create(account=account, taken_at=moment, score=score, items=100)
        raised.append(evaluate_account(account=account, now=moment).raised)
    return raised


def test_a_condition_that_stays_true_alerts_once() -> None:
    """Property that holds: four evaluations of a steady score below the threshold, one alert."""
    account = f.make_account(name="acme")
    make_rule(kind="health_below", threshold=60, channels=[make_channel(kind="email")],
              created_at=timezone.now() - datetime.timedelta(days=1))  # fmt: skip

    assert _evaluate_with_scores(account, [55, 54, 55, 53]) == [1, 0, 0, 0]
    assert AlertState.objects.count() == 1 and AlertDelivery.objects.count() == 1


def test_a_score_wobbling_one_point_around_the_threshold_does_not_alert_on_every_other_sync() -> None:
    """59, 60, 59, 60, 59, 60, 59, 60 (hourly syncs): the organisation never really recovered, yet
    each dip is a "new" condition (the state clears at 60 and re-opens at 59): four alerts, four
    deliveries per channel in eight hours, and it goes on all day. No hysteresis, no cool-down."""
    account = f.make_account(name="acme2")
    make_rule(kind="health_below", threshold=60, channels=[make_channel(kind="email")],
              created_at=timezone.now() - datetime.timedelta(days=1))  # fmt: skip

    raised = _evaluate_with_scores(account, [59, 60, 59, 60, 59, 60, 59, 60])

    sent = sum(1 for d in AlertDelivery.objects.all() if deliver.attempt(d.pk, now=timezone.now()) == "sent")
    assert sum(raised) == 1, f"alerts raised per sync: {raised} ({sent} e-mails sent)"
