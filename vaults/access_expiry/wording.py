"""How the contractor pages and the weekly mail put an end date's state and a week's item use into
words: true on the day they are read (a passed date is never "scheduled"), and never a fraction
over nothing ("0 of 0 items")."""

from __future__ import annotations

import datetime

from openclaw_web.text import plural
from vaults.access_expiry.models import AccessEndDate


def usage_summary(*, uses: int, items: int, days: int) -> str:
    if uses == 0:
        return f"no item use in the last {days} days"
    if items == 0:  # uses of items the report could not name still count
        return f"{plural(uses, 'use', 'uses')} in the last {days} days"
    return f"{plural(uses, 'use', 'uses')} of {plural(items, 'item', 'items')} in the last {days} days"


def end_status(end: AccessEndDate, today: datetime.date) -> str:
    """The status words; a scheduled date that has come says the removal is not proposed yet (the
    daily run proposes it), rather than "scheduled" for a day already past."""
    if end.status == AccessEndDate.Status.SCHEDULED and end.has_ended(today):
        return "date reached; removal not proposed yet"
    return str(end.get_status_display())
