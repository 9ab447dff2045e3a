"""Access anomalies in item usage: the one detector. The compliance reports run it over a
period's production usage (evidence.Evidence.anomalies); the weekly contractor report over its
contractors' week (vaults/access_expiry/report.py). Three GROUP BYs and one sliding window.

Rows are (kind, user, hour, events, distinct IPs, detail); `user` is the email op sent, else the
op id, as the reports show it.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import Any

from django.db.models import Count, Max, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import ExtractHour, TruncHour

from compliance.reports.document import Cell
from vaults.models import Item, ItemUsage

UTC = datetime.UTC
# Unusual hours: 22:00-06:00 UTC (the organisation's time zone is not known; UTC is stated). An
# access anomaly, not emergency access: that is the use of a vault classified emergency (break_glass.py).
NIGHT_FROM_HOUR, NIGHT_UNTIL_HOUR = 22, 6
# A burst: this many item uses by one person within one clock hour. Regular use in the demo
# organisation peaks at 4 per hour; scripted bulk reads show hundreds.
BURST_EVENTS = 20
# One item used from this many distinct IP addresses within ITEM_SPREAD_WINDOW is flagged per
# item, whoever used it: one key opened by three people on three machines in a minute is a secret
# being spread, which the per-person groupings cannot see (each person used it once).
ITEM_SPREAD_ADDRESSES = 3
ITEM_SPREAD_WINDOW = datetime.timedelta(minutes=1)


def _night() -> Q:
    return Q(hour__gte=NIGHT_FROM_HOUR) | Q(hour__lt=NIGHT_UNTIL_HOUR)


def _item_titles() -> Subquery:
    items = Item.objects.filter(op_id=OuterRef("item_op_id"), vault__account=OuterRef("account")).values("title")[:1]
    return Subquery(items)


def usage_anomalies(usage: QuerySet[ItemUsage]) -> list[tuple[Cell, ...]]:
    """Unusual hours per person, several addresses and bursts per person and clock hour, one item
    from several addresses at once (whoever used it), over the events of `usage`."""
    base = usage.annotate(hour_start=TruncHour("timestamp", tzinfo=UTC), hour=ExtractHour("timestamp", tzinfo=UTC))
    rows: list[tuple[Cell, ...]] = []
    night = (base.filter(_night()).values("user_op_id").annotate(
        n=Count("pk"), ips=Count("client_ip", distinct=True), first=Min("timestamp"), who=Max("user_email")))
    for r in night.order_by("-n", "user_op_id"):
        rows.append(("Unusual hours (22:00-06:00 UTC)", r["who"] or r["user_op_id"], r["first"], r["n"], r["ips"],
                     "item uses at night in production vaults"))
    grouped = base.values("user_op_id", "hour_start").annotate(
        n=Count("pk"), ips=Count("client_ip", distinct=True), who=Max("user_email"))
    for r in grouped.filter(ips__gte=2).order_by("-ips", "-n", "user_op_id", "hour_start"):
        rows.append(("Several IP addresses at once", r["who"] or r["user_op_id"], r["hour_start"], r["n"], r["ips"],
                     f"{r['ips']} addresses within one hour"))
    for r in grouped.filter(n__gte=BURST_EVENTS).order_by("-n", "user_op_id", "hour_start"):
        rows.append(("Burst of access", r["who"] or r["user_op_id"], r["hour_start"], r["n"], r["ips"],
                     f"{r['n']} item uses within one hour (threshold {BURST_EVENTS})"))
    rows.extend(_item_spread(usage))
    return rows


def _item_spread(usage: QuerySet[ItemUsage]) -> list[tuple[Cell, ...]]:
    """Per item, not per person: one item used from ITEM_SPREAD_ADDRESSES or more IP addresses
    within ITEM_SPREAD_WINDOW. 1. GROUP BY (item, hour) keeps the few items with two or more
    addresses in some hour (three addresses within a minute put at least two in one hour);
    2. a sliding one-minute window over those items' events in Python."""
    base = usage.exclude(client_ip="")
    hours = (base.annotate(hour_start=TruncHour("timestamp", tzinfo=UTC)).values("item_op_id", "hour_start")
             .annotate(ips=Count("client_ip", distinct=True)).order_by())
    busy = {r["item_op_id"] for r in hours.filter(ips__gte=2)}
    if not busy:
        return []
    events = (base.filter(item_op_id__in=sorted(busy))
              .annotate(item_title=_item_titles())
              .values_list("item_op_id", "timestamp", "client_ip", "user_op_id", "user_email", "item_title")
              .order_by("item_op_id", "timestamp"))
    by_item: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for event in events:
        by_item[event[0]].append(event)
    rows: list[tuple[Cell, ...]] = []
    for item_op_id, item_events in sorted(by_item.items()):
        start = 0
        reported_until: datetime.datetime | None = None
        for end, event in enumerate(item_events):
            while event[1] - item_events[start][1] > ITEM_SPREAD_WINDOW:
                start += 1
            window = item_events[start : end + 1]
            ips = {e[2] for e in window}
            if len(ips) < ITEM_SPREAD_ADDRESSES or (reported_until and window[0][1] <= reported_until):
                continue
            people = sorted({e[4] or e[3] for e in window})
            title = event[5] or item_op_id
            rows.append(("One item from several addresses at once", ", ".join(people), window[0][1], len(window),
                         len(ips), f"“{title}” used by {len(people)} people from {len(ips)} addresses within "
                         f"{int(ITEM_SPREAD_WINDOW.total_seconds())} s"))
            reported_until = event[1]
    return rows
