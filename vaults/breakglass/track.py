"""The one call the sync (and the backfill command) makes: record new break-glass events, mark
rotations, and mail what is still unannounced once the transaction commits."""

from __future__ import annotations

from django.db import transaction

from vaults.breakglass import notify
from vaults.breakglass.record import record_uses, refresh_rotations
from vaults.models import Account


@transaction.atomic
def track(*, account: Account) -> int:
    """Returns the number of events created now."""
    created = record_uses(account=account)
    refresh_rotations(account=account)
    notify.notify_after_commit(notify.pending(account.pk))
    return len(created)
