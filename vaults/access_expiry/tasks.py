"""Celery entry points for end dates: they call the domain (daily.py, weekly.py) and nothing else."""

from __future__ import annotations

from celery import shared_task

from vaults.access_expiry import daily, weekly
from vaults.models import Account


@shared_task(name="vaults.access_expiry.tasks.run_access_expiry_task")
def run_access_expiry_task(account_id: int | None = None) -> int:
    """Beat, daily, for every account; after each successful sync, for its account."""
    if account_id is None:
        return len(daily.run_for_all_accounts())
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        return 0
    daily.run_access_expiry(account=account)
    return 1


@shared_task(name="vaults.access_expiry.tasks.weekly_contractor_report_task")
def weekly_contractor_report_task() -> int:
    """Beat, Monday morning: the weekly contractor access mail."""
    return weekly.send_weekly_report()
