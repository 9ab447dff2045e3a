"""Usage retention: raw item-usage events older than the retention become daily counts.

A SOC 2 Type II period runs up to 12 months and auditors ask about last year too, so old usage is
summarised (one row per day, item, vault, person and action) rather than dropped.

`summarise_old_usage` runs at the end of every events import (vaults/events.py):
1. The cutoff is `now - max(USAGE_RETENTION_DAYS, EVENTS_HISTORY_DAYS)` days. Never nearer than the
   first read's reach: a cursor reset re-reads at most EVENTS_HISTORY_DAYS back, so an event that
   was already counted can never come back as a raw row and be counted twice.
2. The raw rows before the cutoff are deleted. Their daily counts and coarser rollups are already
   stored: the database adds every inserted event to `ItemUsageDaily` (migration 0010) and to the
   per-person, per-vault and per-item rollups (migration 0012) in the same statement, and a delete
   leaves them all alone. A second run finds nothing left to delete.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from vaults.models import Account, ItemUsage


def retention_cutoff(*, now: datetime | None = None) -> datetime | None:
    """Raw events before this instant are kept as daily counts only; None when everything is kept."""
    days = int(getattr(settings, "USAGE_RETENTION_DAYS", 0))
    if days <= 0:
        return None
    history = int(getattr(settings, "EVENTS_HISTORY_DAYS", 0))
    # Midnight UTC, so a day is either wholly raw or wholly summarised.
    cutoff = (now or timezone.now()) - timedelta(days=max(days, history))
    return datetime(cutoff.year, cutoff.month, cutoff.day, tzinfo=UTC)


def summarise_old_usage(*, account: Account, now: datetime | None = None) -> int:
    """Delete `account`'s raw usage before the cutoff (its daily counts stay); returns the rows deleted."""
    cutoff = retention_cutoff(now=now)
    if cutoff is None:
        return 0
    deleted, _ = ItemUsage.objects.filter(account=account, timestamp__lt=cutoff).delete()
    return deleted
