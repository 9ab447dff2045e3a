"""What an end date still covers: the vaults in its scope the person can reach today.

Read from the synced access (vaults/access.py): a direct grant or a group grant through a
membership both count, so an end date is met only when a sync shows neither left. A person
removed from 1Password (or deleted in op) reaches nothing, whatever rows the last sync kept.
"""

from __future__ import annotations

from collections import defaultdict

from vaults.access import access_pairs
from vaults.access_expiry.models import AccessEndDate
from vaults.models import Account, OpUser


def is_gone(person: OpUser) -> bool:
    """Removed from the account, or in op's DELETED state: a grant row left behind is no access
    (the over-permissioned rule still reports such a row; an end date has nothing left to end)."""
    return person.removed_at is not None or person.state.strip().upper() == "DELETED"


def vaults_by_user(account: Account) -> dict[int, set[int]]:
    """Vault ids each person (OpUser pk) can reach: one UNION query for the whole account."""
    reach: dict[int, set[int]] = defaultdict(set)
    for user_id, vault_id in access_pairs(account):
        reach[user_id].add(vault_id)
    return reach


def scoped_vault_ids(end_dates: list[AccessEndDate]) -> dict[int, set[int]]:
    """End date pk -> the vault ids it names (whole-access end dates are absent): one query."""
    through = AccessEndDate.vaults.through
    scoped: dict[int, set[int]] = defaultdict(set)
    rows = through.objects.filter(accessenddate_id__in=[e.pk for e in end_dates if not e.covers_all])
    for end_id, vault_id in rows.values_list("accessenddate_id", "vault_id"):
        scoped[end_id].add(vault_id)
    return scoped


def still_reachable(
    end_date: AccessEndDate, *, reach: dict[int, set[int]], scoped: dict[int, set[int]]
) -> set[int]:
    """Vault ids in the end date's scope the person can still reach (empty: access is gone)."""
    if is_gone(end_date.op_user):
        return set()
    reachable = reach.get(end_date.op_user_id, set())
    if end_date.covers_all:
        return set(reachable)
    return reachable & scoped.get(end_date.pk, set())
