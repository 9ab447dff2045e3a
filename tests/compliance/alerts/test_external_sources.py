"""The offboarding and break-glass sources (their apps' alerts.py) are wired into the evaluator:
a case past its SLA alerts once, a break-glass use after the rule exists alerts once, and the
history before the rule (an old use) does not."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from compliance.alerts import evaluate
from compliance.alerts.models import AlertState
from tests.compliance.alerts.factories import make_channel, make_rule
from tests.vaults.factories import make_account, make_op_user, make_vault
from vaults.breakglass.models import EmergencyUse
from vaults.offboarding.models import OffboardingCase

pytestmark = pytest.mark.django_db


def _case(account, *, due_in_days: int, email: str) -> OffboardingCase:
    today = timezone.now().date()
    return OffboardingCase.objects.create(
        account=account, op_user=make_op_user(account=account, email=email), email=email, name=email.split("@")[0],
        reason="suspended", leave_date=today - datetime.timedelta(days=10), due_date=today + datetime.timedelta(days=due_in_days),
        lookback_days=90, opened_at=timezone.now(),
    )  # fmt: skip


def test_an_offboarding_case_past_its_sla_alerts_once_and_one_within_it_does_not():
    account = make_account()
    late = _case(account, due_in_days=-3, email="late@example.com")
    _case(account, due_in_days=2, email="ontime@example.com")
    rule = make_rule(kind="offboarding_overdue", channels=[make_channel()])

    evaluate.evaluate_account(account=account)
    evaluate.evaluate_account(account=account)

    [state] = AlertState.objects.filter(rule=rule)
    assert state.key == f"offboarding:{late.pk}" and state.details["days_overdue"] == 3


def _use(account, vault, *, at: datetime.datetime, user: str) -> EmergencyUse:
    return EmergencyUse.objects.create(
        account=account, vault=vault, vault_op_id=vault.op_id, item_op_id="it1", vault_name=vault.name, item_title="Root DB",
        user_op_id=user, user_email=f"{user}@example.com", first_used_at=at, last_used_at=at,
        rotation_due_at=at + datetime.timedelta(days=1),
    )  # fmt: skip


def test_a_break_glass_use_after_the_rule_exists_alerts_and_older_history_does_not():
    account = make_account()
    vault = make_vault(account=account, name="Emergency")
    now = timezone.now()
    _use(account, vault, at=now - datetime.timedelta(days=40), user="old")
    rule = make_rule(kind="break_glass_use", channels=[make_channel()], created_at=now - datetime.timedelta(hours=1))
    fresh = _use(account, vault, at=now - datetime.timedelta(minutes=5), user="fresh")

    evaluate.evaluate_account(account=account)
    evaluate.evaluate_account(account=account)

    [state] = AlertState.objects.filter(rule=rule)
    assert state.key == f"break_glass:{fresh.pk}" and state.vault_id == vault.pk
