"""Who may set, move or clear an end date: the vault scope of vaults/cleanup/scope.py applied to
end dates, because an end date is a removal proposed later in its sponsor's name.

1. A vault-scoped end date names only vaults its sponsor may propose cleanup on (an admin: any;
   a team lead: the vaults they own). Anything else would schedule, in the lead's name, a
   revocation the cleanup pages refuse them.
2. A whole-access end date may be set by any lead (a contract's end is the lead's to record),
   but only the part in the sponsor's scope is proposed in their name; the rest is proposed by
   OpenClaw's expiry identity, so two humans other than the lead approve it (daily.py).
3. Moving or clearing someone else's end date (another sponsor's, or a guest's default) needs an
   admin, or the owner of every vault it covers: otherwise a lead could cancel or postpone the
   removal of access to a vault nobody gave them.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from vaults.access_expiry.models import AccessEndDate
from vaults.access_expiry.scope import is_gone, vaults_by_user
from vaults.cleanup import scope
from vaults.models import Vault


def outside_scope(user: AbstractBaseUser | AnonymousUser, vaults: Iterable[Vault]) -> list[Vault]:
    return [v for v in vaults if not scope.is_in_scope(user, v)]


def covered_vaults(end_date: AccessEndDate) -> list[Vault]:
    """The vaults the end date ends: the named ones, or every vault the person reaches today."""
    if not end_date.covers_all:
        return list(end_date.vaults.all())
    if is_gone(end_date.op_user):
        return []
    reached = vaults_by_user(end_date.op_user.account).get(end_date.op_user_id, set())
    return list(Vault.objects.filter(pk__in=sorted(reached)).order_by("name"))


def change_refusal(user: AbstractBaseUser | AnonymousUser, end_date: AccessEndDate) -> str:
    """Why `user` may not move or clear `end_date` ("" when they may)."""
    if end_date.sponsor_id is not None and end_date.sponsor_id == user.pk:
        return ""
    if scope.proposes_anywhere(user):
        return ""
    vaults = covered_vaults(end_date)
    outside = outside_scope(user, vaults)
    if vaults and not outside:
        return ""
    whose = "a guest's default end date" if end_date.sponsor_id is None else "an end date someone else sponsors"
    if not outside:
        return f"This is {whose}: only its sponsor or an admin may change it."
    return f"This is {whose}, covering vaults you do not own: ask its sponsor, an admin, or the vaults' owner."
