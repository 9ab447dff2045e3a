"""emergency_reason_missing (high) and emergency_rotation_late (high): break-glass uses that
were not explained, or whose secret was not rotated in time (vaults/breakglass/).

Rule (docs/findings-rules.md):
1. reason missing — an emergency event of the account with no reason BREAK_GLASS_REASON_HOURS
   (default 24) after its first use. Resolves when the reason is recorded.
2. rotation late — an emergency event whose rotation deadline (first use +
   BREAK_GLASS_ROTATION_HOURS, default 24) has passed and whose item's secrets have not all
   changed since the event's last use. A change before a use does not count (the person saw the
   new secret). Resolves when a sync sees the new secret; the event keeps "rotated late" for the reports.
Events exist only for vaults classified emergency, so a use in any other vault is never one.
One finding per event, keyed by the event; the item is the event's item (when still known).
"""

from __future__ import annotations

import datetime
from typing import Any

from vaults.breakglass.models import EmergencyUse
from vaults.breakglass.record import missing_reason, reason_hours, rotation_late
from vaults.findings.candidate import Candidate, short
from vaults.findings.models import Finding
from vaults.models import Account


def _candidate(kind: str, event: EmergencyUse, *, title: str, explanation: str, action: str) -> Candidate:
    search = " ".join((event.item_title[:500], event.vault_name, event.who, event.user_email)).lower()
    return Candidate(
        kind=kind,
        severity=Finding.Severity.HIGH,
        key=f"emergency:{event.pk}",
        title=short(title),
        explanation=explanation,
        recommended_action=action,
        search_text=" ".join(search.split()),
        details={"emergency_use": event.pk, "first_used_at": event.first_used_at.isoformat(),
                 "item_op_id": event.item_op_id, "vault_ids": [event.vault_id] if event.vault_id else []},
        vault_id=event.vault_id,
        item_id=event.item_id,
    )


def find(*, account: Account, now: datetime.datetime, **_: Any) -> list[Candidate]:
    events = EmergencyUse.objects.filter(account=account)
    candidates = []
    when = "%Y-%m-%d %H:%M UTC"
    for event in events.filter(missing_reason(now)).order_by("first_used_at", "pk"):
        candidates.append(_candidate(
            Finding.Kind.EMERGENCY_REASON_MISSING, event,
            title=f"Break-glass use without a reason: {event.item_title or event.item_op_id}",
            explanation=(f"{event.who} used the emergency credential “{short(event.item_title, 80)}” in "
                         f"“{short(event.vault_name, 80)}” on {event.first_used_at.strftime(when)}; no reason was "
                         f"given within {reason_hours()} hours."),
            action="Ask the user (or their lead) for the reason, or record it on the break-glass page.",
        ))
    for event in events.filter(rotation_late(now)).order_by("first_used_at", "pk"):
        candidates.append(_candidate(
            Finding.Kind.EMERGENCY_ROTATION_LATE, event,
            title=f"Break-glass secret not rotated: {event.item_title or event.item_op_id}",
            explanation=(f"{event.who} used “{short(event.item_title, 80)}” on {event.first_used_at.strftime(when)}; "
                         f"its secret was due for rotation by {event.rotation_due_at.strftime(when)} and no sync has "
                         "seen a new one since the use."),
            action="Rotate the secret (propose a rotation from the break-glass page) and let the next sync confirm it.",
        ))
    return candidates
