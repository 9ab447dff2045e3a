"""Usage coverage: from when OpenClaw knows who used which item, and from which feed.

A claim such as "nobody has used it in 180 days" is only true when item usage was measured for
all of those 180 days. Coverage is read from the data, never assumed:
1. No Events API configured on the account (`events_url` blank) → no coverage at all.
2. Otherwise coverage starts at the earliest stored item-usage event (the Events API
   `itemusages` feed). Before it nothing was measured, whatever the 1Password account's age.
3. Configured but no event stored yet → no coverage (the feed has not delivered anything).
`covers(since)` says whether the whole window from `since` to now was measured. The orphaned
rule, the account's sync page and the report builders call `usage_coverage`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Min

from vaults.models import Account, ItemUsage

FEED = "1Password Events API, itemusages feed"


@dataclass(frozen=True)
class UsageCoverage:
    events_configured: bool
    since: datetime.datetime | None  # earliest stored item-usage event
    feed: str = FEED

    def covers(self, start: datetime.datetime) -> bool:
        """Whether item usage was measured over the whole window from `start` to now."""
        return self.since is not None and self.since <= start

    @property
    def summary(self) -> str:
        """One sentence for pages and reports."""
        if not self.events_configured:
            return "Item usage is not measured: no Events API is configured for this account."
        if self.since is None:
            return "Item usage is not measured yet: the Events API has delivered no item-usage event."
        return f"Item usage measured since {self.since:%Y-%m-%d %H:%M} UTC ({self.feed})."


def usage_coverage(account: Account) -> UsageCoverage:
    """Coverage of `account`'s item-usage data (module docstring); one aggregate query."""
    if not account.events_url:
        return UsageCoverage(events_configured=False, since=None)
    earliest = ItemUsage.objects.filter(account=account).aggregate(first=Min("timestamp"))["first"]
    return UsageCoverage(events_configured=True, since=earliest)
