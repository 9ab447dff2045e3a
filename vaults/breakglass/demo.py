"""The demo's break-glass story: the 3 AM uses planted in "Break Glass Production" (vaults/fake_op/
demo_events.py) become emergency events once an admin classifies the vault emergency, as a person
would on the vault page. One was explained through the signed link and rotated that morning; one
explained by the vault's lead; the rest wait for a reason and a rotation (the findings)."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from compliance import audit
from vaults import history
from vaults.breakglass.models import EmergencyUse
from vaults.breakglass.record import record_uses, refresh_rotations
from vaults.models import Account, SecretField, Vault

MINUTE = datetime.timedelta(minutes=1)


@transaction.atomic
def seed_demo_break_glass(*, account: Account, admin: User, lead: User) -> int:
    """Returns the number of events seeded (0 when the demo has no break-glass vault)."""
    vault = Vault.objects.filter(account=account, name__icontains="break glass").order_by("pk").first()
    if vault is None:
        return 0
    before = vault.classification
    vault.classification, vault.classification_set_by_person = Vault.Classification.EMERGENCY, True
    vault.save(update_fields=["classification", "classification_set_by_person"])
    history.record_classification(account, at=timezone.now())
    audit.record("vault.settings_changed", actor=admin, target=vault,
                 details={"before": {"classification": before}, "after": {"classification": vault.classification},
                          "via": "demo"})
    events = sorted(record_uses(account=account), key=lambda e: e.first_used_at)
    # The product mailed each use when it happened (the demo sends no mail while seeding).
    for event in events:
        EmergencyUse.objects.filter(pk=event.pk).update(contacts_notified_at=event.first_used_at + 2 * MINUTE,
                                                        reason_requested_at=event.first_used_at + 2 * MINUTE)
    # The story's events: the 3 AM uses first (demo_events.py plants them between 01:00 and 04:00).
    events.sort(key=lambda e: (not 1 <= e.first_used_at.hour < 4, e.first_used_at))
    if events:
        first = events[0]
        EmergencyUse.objects.filter(pk=first.pk).update(
            reason="INC-2291: payments database failover at 03:00; the on-call engineer restored the primary "
                   "with the break-glass credential. Rotated at 08:10.",
            reason_by=EmergencyUse.ReasonBy.USER, reason_by_label=first.user_email,
            reason_at=first.first_used_at + 40 * MINUTE)  # fmt: skip
        if first.item_id is not None:  # the morning's rotation, as the next sync saw it
            SecretField.objects.filter(item_id=first.item_id).update(changed_at=first.last_used_at + 5 * 60 * MINUTE)
    if len(events) > 1:
        second = events[1]
        EmergencyUse.objects.filter(pk=second.pk).update(
            reason="CHG-1180 approved emergency change: certificate renewal on the payment gateway out of hours.",
            reason_by=EmergencyUse.ReasonBy.LEAD, reason_by_label=lead.email or lead.get_username(),
            reason_at=second.first_used_at + 9 * 60 * MINUTE)  # fmt: skip
    refresh_rotations(account=account)
    return len(events)
