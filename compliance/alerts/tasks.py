"""Celery entry points for alerts: thin wrappers over `evaluate` and `deliver`."""

from __future__ import annotations

from celery import shared_task

from compliance.alerts import deliver, evaluate
from vaults.models import Account


@shared_task(name="compliance.alerts.tasks.evaluate_alerts_task")
def evaluate_alerts_task(account_id: int) -> int:
    """After a findings run of one account (sent by name from vaults/findings/engine.py)."""
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        return 0
    return evaluate.evaluate_account(account=account).raised


@shared_task(name="compliance.alerts.tasks.evaluate_all_alerts_task")
def evaluate_all_alerts_task() -> int:
    """Beat, every few minutes: conditions that change without a findings run (a review's due
    date passing, an anomaly in fresh usage, an offboarding case's SLA)."""
    return evaluate.evaluate_all().raised


@shared_task(name="compliance.alerts.tasks.deliver_alert_task")
def deliver_alert_task(delivery_id: int) -> str | None:
    return deliver.attempt(delivery_id)


@shared_task(name="compliance.alerts.tasks.deliver_due_alerts_task")
def deliver_due_alerts_task() -> int:
    """Beat, every minute: retries whose backoff has passed."""
    return deliver.deliver_due()
