"""`{{ event|reason_due_at }}`: when an event's reason is (or was) due, so the pages say "due by"
only while it is still due and "missing since" once it passed, from the one rule in record.py."""

from __future__ import annotations

import datetime

from django import template

from vaults.breakglass import record
from vaults.breakglass.models import EmergencyUse

register = template.Library()


@register.filter
def reason_due_at(event: EmergencyUse) -> datetime.datetime:
    return record.reason_due_at(event)
