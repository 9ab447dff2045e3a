"""End dates of the labelled evaluation organisation (vaults/fake_op/evaluation.py).

End dates are OpenClaw's data, not 1Password's: the account file carries them under
`openclaw.access_end_dates` (the fake `op` ignores the key) and the evaluation seeds them after
the sync, as a person would have set them, then gives guests their defaults as the daily job
does. Rows are written directly, not through `set_end_date`: the decoys include a service account
and a deleted person, whom the page refuses.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from vaults.access_expiry.models import AccessEndDate
from vaults.access_expiry.schedule import ensure_guest_defaults
from vaults.models import Account, OpUser, Vault


def seed_end_dates(*, account: Account, data: dict[str, Any], now: datetime.datetime | None = None) -> int:
    """Create the file's end dates for `account`; returns how many (unknown people are skipped)."""
    rows = data.get("openclaw", {}).get("access_end_dates", [])
    people = {u.op_id: u for u in OpUser.objects.filter(account=account, op_id__in=[r["user_id"] for r in rows])}
    vaults = {v.op_id: v for v in Vault.objects.filter(account=account)}
    created = 0
    for row in rows:
        person = people.get(row["user_id"])
        if person is None:
            continue
        scoped = row.get("vault_ids")
        end = AccessEndDate.objects.create(account=account, op_user=person, covers_all=scoped is None,
                                           ends_on=datetime.date.fromisoformat(row["ends_on"]),
                                           reason="evaluation organisation")  # fmt: skip
        if scoped is not None:
            end.vaults.set([vaults[v] for v in scoped if v in vaults])
        created += 1
    ensure_guest_defaults(account=account, now=now or timezone.now())
    return created
