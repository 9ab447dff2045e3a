"""Break-glass uses as alert conditions (compliance/alerts/): one per emergency event."""

from __future__ import annotations

from django.urls import reverse

from compliance.alerts.conditions import BREAK_GLASS_USE, Condition
from vaults.breakglass import record
from vaults.breakglass.models import EmergencyUse
from vaults.models import Account


def alert_conditions(account: Account) -> list[Condition]:
    """Every break-glass event of `account`, newest first; the key is the event, so the evaluator
    raises each use once. Metadata only: names, times and the follow-up state."""
    conditions = []
    for event in EmergencyUse.objects.filter(account=account).order_by("-first_used_at", "-pk"):
        state = record.state(event)
        conditions.append(Condition(
            kind=BREAK_GLASS_USE,
            key=f"break_glass:{event.pk}",
            account_id=account.pk,
            title=f"Break-glass use of {event.item_title or event.item_op_id} by {event.who}"[:300],
            url=reverse("breakglass:detail", args=[event.pk]),
            severity="high",
            vault_id=event.vault_id,
            details={"item": event.item_title[:300], "vault": event.vault_name[:300], "user": event.who[:300],
                     "first_used_at": event.first_used_at.isoformat(), "uses": event.use_count,
                     "reason": state.reason, "rotation": state.rotation,
                     "rotation_due_at": event.rotation_due_at.isoformat()},
        ))
    return conditions
