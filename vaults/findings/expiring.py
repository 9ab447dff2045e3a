"""expiring (medium; high when already expired).

Rule (docs/findings-rules.md): an active item with an expiry date within `expiring_days`
(default 30) from today, or in the past. An item expiring today is not yet expired.

One query per policy scope: expires_at <= today + expiring_days.
"""

from __future__ import annotations

import datetime
from typing import Any

from vaults.findings.candidate import (
    ITEM_VALUES,
    Candidate,
    PolicyScope,
    active_item_rows,
    item_candidate,
    local_date,
    only_items,
    quoted,
    short,
)
from vaults.findings.models import Finding
from vaults.models import Account


def find(
    *,
    account: Account,
    now: datetime.datetime,
    scopes: list[PolicyScope],
    items: frozenset[int] | None = None,
    **_: Any,
) -> list[Candidate]:
    today = local_date(now)
    candidates = []
    for scope in scopes:
        horizon = today + datetime.timedelta(days=scope.policy.expiring_days)
        rows = (
            only_items(active_item_rows(account), items)
            .filter(scope.q(), expires_at__isnull=False, expires_at__lte=horizon)
            .values(*ITEM_VALUES, "expires_at")
        )
        for row in rows:
            expires = row["expires_at"]
            expired = expires < today
            when = f"expired on {expires.isoformat()}" if expired else f"expires on {expires.isoformat()}"
            candidates.append(
                item_candidate(
                    Finding.Kind.EXPIRING,
                    Finding.Severity.HIGH if expired else Finding.Severity.MEDIUM,
                    row,
                    title=short(f"{'Expired' if expired else 'Expiring'}: {row['title']}"),
                    explanation=f"{quoted(row['title'])} {when} ({(expires - today).days} days from today).",
                    recommended_action="Renew it at its source and update the expiry date, or archive it if unused.",
                    details={"expires_at": expires.isoformat(), "expired": expired},
                )
            )
    return candidates
