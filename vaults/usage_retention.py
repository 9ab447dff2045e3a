"""Usage retention: raw item-usage events older than the retention become daily counts.

A SOC 2 Type II period runs up to 12 months and auditors ask about last year too, so old usage is
summarised (one row per day, item, vault, person and action) rather than dropped.

`summarise_old_usage` runs at the end of every events import (vaults/events.py):
1. The cutoff is `now - max(USAGE_RETENTION_DAYS, EVENTS_HISTORY_DAYS)` days. Never nearer than the
   first read's reach: a cursor reset re-reads at most EVENTS_HISTORY_DAYS back, so an event that
   was already counted can never come back as a raw row and be counted twice.
2. In one transaction: the raw rows before the cutoff are added to the daily counts (an upsert that
   adds to a day's existing count) and deleted. A second run finds no raw row left to add, so
   running it again changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from vaults.models import Account, ItemUsage, ItemUsageDaily

KEY_COLUMNS = ("account_id", "day", "item_op_id", "vault_op_id", "user_op_id", "action")


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
    """Roll `account`'s raw usage before the cutoff into daily counts; returns the rows rolled up."""
    cutoff = retention_cutoff(now=now)
    if cutoff is None:
        return 0
    old = ItemUsage.objects.filter(account=account, timestamp__lt=cutoff)
    grouped = (
        old.annotate(day=TruncDate("timestamp", tzinfo=UTC))
        .values("account_id", "day", "item_op_id", "vault_op_id", "user_op_id", "action")
        .annotate(n=Count("id"))
        .values_list(*KEY_COLUMNS, "n")
        .order_by()
    )
    select_sql, params = grouped.query.sql_with_params()
    table = connection.ops.quote_name(ItemUsageDaily._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in (*KEY_COLUMNS, "count"))
    keys = ", ".join(connection.ops.quote_name(c) for c in KEY_COLUMNS)
    count = connection.ops.quote_name("count")
    # `WHERE true` keeps SQLite from reading ON CONFLICT as part of the SELECT (its documented
    # ambiguity). Only quoted model names and Django's own compiled SQL; values travel as params.
    upsert = (
        f"INSERT INTO {table} ({columns}) SELECT * FROM ({select_sql}) AS rolled WHERE true "  # noqa: S608
        f"ON CONFLICT ({keys}) DO UPDATE SET {count} = {table}.{count} + excluded.{count}"
    )
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(upsert, params)
        deleted, _ = old.delete()
    return deleted
