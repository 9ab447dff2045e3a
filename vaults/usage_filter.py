"""The one filter every usage question is asked with (vaults/usage_audit.py, vaults/usage_rollups.py):
its own module so the rollups can read it without importing the audit that routes to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from vaults.models import Account, Item, OpGroup, OpUser, Vault


@dataclass(frozen=True)
class UsageFilter:
    account: Account | None = None
    vault: Vault | None = None
    item: Item | None = None
    title: str = ""  # part of the item title, case-insensitive
    tag: str = ""  # one of the item's tags, exactly
    classification: str = ""  # the vault's classification
    person: OpUser | None = None
    group: OpGroup | None = None  # current members (module docstring)
    action: str = ""
    country: str = ""
    ip: str = ""  # an address, or a prefix ending in "." or ":" ("203.0.113.")
    start: date | None = None  # first day, inclusive (UTC)
    end: date | None = None  # last day, inclusive (UTC)

    @property
    def start_at(self) -> datetime | None:
        return datetime.combine(self.start, time.min, tzinfo=UTC) if self.start else None

    @property
    def end_before(self) -> datetime | None:
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC) if self.end else None
