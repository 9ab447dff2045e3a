"""End dates for the demo organisation (`manage.py demo`): contractors whose access ended (a
finding, a removal proposed by their sponsor), one ending within the week (reminded), one far
off, a vault grant's expiry, a guest past an end date and the guests' defaults; then the daily
job, as beat would run it. Idempotent: people who already have an end date are left alone.

End dates are OpenClaw's data, not 1Password's, so the demo seeds them here after the sync.
"""

from __future__ import annotations

import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from vaults.access_expiry import daily
from vaults.access_expiry.models import AccessEndDate
from vaults.access_expiry.schedule import set_end_date
from vaults.cleanup.scope import proposes_anywhere
from vaults.models import Account, OpUser, Vault, VaultGrant

# (days from today, whole access?, reason)
CONTRACTORS = [
    (-4, True, "Contract NOR-118 (penetration test) ended"),
    (5, True, "Contract ACME-42 (payments migration) ends"),
    (120, True, "Contract OPS-7 (on-call support) renewal due"),
    (-2, False, "Access to this vault was for the Q3 audit only"),
]


@transaction.atomic
def seed_demo_end_dates(*, account: Account, sponsor: User) -> int:
    """Seed the end dates above on people holding a direct grant (members first, by name), and a
    past one on the first guest; returns how many were created."""
    if AccessEndDate.objects.filter(account=account, is_default=False).exists():
        return 0
    today = timezone.localdate()
    direct = VaultGrant.objects.filter(user=OuterRef("pk"), vault__removed_at__isnull=True)
    holders = (
        OpUser.objects.filter(Exists(direct), account=account, user_type="MEMBER", state="ACTIVE", removed_at__isnull=True)
        .exclude(memberships__group__name__in=["Owners", "Administrators"])
        .distinct().order_by("name")
    )  # fmt: skip
    created = 0
    for person, (days, whole, reason) in zip(holders, CONTRACTORS, strict=False):
        vaults = None
        if not whole:
            granted = VaultGrant.objects.filter(user=person, vault__removed_at__isnull=True).values_list("vault_id", flat=True)
            # A grant's expiry names a vault the sponsor owns (set_end_date refuses others):
            # the sponsor's own vault when the person holds one, else the sponsor's first vault.
            own = Vault.objects.filter(account=account, removed_at__isnull=True).order_by("name")
            if not proposes_anywhere(sponsor):
                own = own.filter(owner=sponsor)
            vaults = list(own.filter(pk__in=list(granted))[:1]) or list(own[:1])
            if not vaults:
                continue
        set_end_date(op_user=person, ends_on=today + datetime.timedelta(days=days), vaults=vaults, sponsor=sponsor,
                     reason=reason, actor=sponsor)  # fmt: skip
        created += 1
    guest = OpUser.objects.filter(account=account, user_type="GUEST", removed_at__isnull=True).order_by("name").first()
    if guest is not None:
        set_end_date(op_user=guest, ends_on=today - datetime.timedelta(days=1), vaults=None, sponsor=sponsor,
                     reason="Auditor guest: fieldwork finished", actor=sponsor)  # fmt: skip
        created += 1
    daily.run_access_expiry(account=account)
    return created
