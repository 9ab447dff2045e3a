"""The access anomalies of the compliance reports as subjects, for the labelled evaluation
(vaults/findings/evaluation.py scores them): which people and items the report's anomaly table
names, per anomaly kind, over the item usage of the last `days` days.

The per-person anomalies name the person by email (op id when op sent none); the per-item one
names the item by title, as the report does (the row carries no item id).
"""

from __future__ import annotations

import datetime
import re

from compliance.reports.evidence import Evidence
from compliance.reviews.periods import Period
from vaults.models import Account

# Report row kinds (compliance/reports/evidence.py `Evidence.anomalies`) -> evaluation kinds
# (vaults/fake_op/evaluation.py ANOMALY_KINDS).
ROW_KINDS: dict[str, str] = {
    "One item from several addresses at once": "anomaly_item_spread",
    "Several IP addresses at once": "anomaly_several_addresses",
    "Burst of access": "anomaly_burst",
    "Unusual hours (22:00-06:00 UTC)": "anomaly_unusual_hours",
}
_ITEM_TITLE = re.compile(r"^“(?P<title>.*)” used by ")


def observed_anomalies(account: Account, *, now: datetime.datetime, days: int = 180) -> dict[str, set[str]]:
    period = Period(start=now - datetime.timedelta(days=days), end=now + datetime.timedelta(minutes=1),
                    label=f"last {days} days")  # fmt: skip
    evidence = Evidence(period=period, accounts=[account], now=now + datetime.timedelta(minutes=2))
    observed: dict[str, set[str]] = {kind: set() for kind in ROW_KINDS.values()}
    for row in evidence.anomalies:
        kind = ROW_KINDS.get(str(row[0]))
        if kind is None:
            continue
        if kind == "anomaly_item_spread":
            match = _ITEM_TITLE.match(str(row[5]))
            observed[kind].add(match.group("title") if match else str(row[5]))
        else:
            observed[kind].add(str(row[1]))
    return observed
