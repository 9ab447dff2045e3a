"""access_past_end_date (high): a person whose access end date has come while the sync still
shows them reaching vaults it covers.

Rule (docs/findings-rules.md). For each open end date (vaults/access_expiry: a contractor's end,
a vault grant's expiry, a guest's default) with `ends_on` on or before today (`ends_on` is the
first day without access: AccessEndDate.has_ended, the daily job's rule too):
1. whole access: one finding for the person (key `user:<pk>`), naming every vault they still reach;
2. vault-scoped: one finding per (person, vault) still reachable (key `user:<pk>:vault:<pk>`),
   unless a whole-access finding for the same person already names that vault;
3. never for service accounts, or people removed from 1Password or in op's DELETED state
   (nothing left to end; a grant row left behind is the over-permissioned rule's business);
4. it resolves when a sync shows no grant or membership left in scope (or the end date is
   moved later, or cleared).
Reachability is effective access (vaults/access.py): a group grant counts as much as a direct one.

Steps: open end dates with `ends_on <= today` (one query with their people), their vaults (one),
effective access as (person, vault) pairs (one UNION), vault names (one).
"""

from __future__ import annotations

import datetime
from typing import Any

from vaults.access_expiry.models import AccessEndDate, ended_by
from vaults.access_expiry.scope import scoped_vault_ids, still_reachable, vaults_by_user
from vaults.findings.candidate import Candidate, local_date, quoted, quoted_list, short
from vaults.findings.models import Finding
from vaults.models import Account, Vault
from vaults.models.access import service_accounts

KIND = Finding.Kind.ACCESS_PAST_END_DATE


def _candidate(end_date: AccessEndDate, vault_ids: set[int], *, key: str, names: dict[int, str], today: datetime.date,
               vault_id: int | None) -> Candidate:  # fmt: skip
    person = end_date.op_user
    who = str(person)
    listed = sorted((names[v] for v in vault_ids), key=str.casefold)
    days = (today - end_date.ends_on).days
    since = "today" if days == 0 else f"{days} day{'s' if days != 1 else ''} ago"
    what = "Their access" if end_date.covers_all else "Their access to these vaults"
    kind_of = " (the default end date for guests)" if end_date.is_default else ""
    plan = (" A removal was proposed and waits for an approver." if end_date.removal_proposed_at
            else " The removal is proposed by the next end-date run.")  # fmt: skip
    return Candidate(
        kind=KIND,
        severity=Finding.Severity.HIGH,
        key=key,
        title=short(f"Access past its end date: {who}" + (f" in {listed[0]}" if vault_id is not None else "")),
        explanation=(
            f"{what} ended on {end_date.ends_on.isoformat()}{kind_of}, {since}, but the last sync shows "
            f"{quoted(who)} still reaching {quoted_list(listed)}.{plan}"
        ),
        recommended_action="Approve the proposed removal (cleanup), or set a later end date if the engagement continues.",
        search_text=" ".join(f"{who} {person.email} {' '.join(listed)}".lower().split()),
        details={
            "user_op_id": person.op_id,
            "end_date_id": end_date.pk,
            "ends_on": end_date.ends_on.isoformat(),
            "covers_all": end_date.covers_all,
            "default": end_date.is_default,
            "vault_ids": sorted(vault_ids),
            "vault_count": len(vault_ids),
        },
        vault_id=vault_id,
        op_user_id=person.pk,
    )


def find(*, account: Account, now: datetime.datetime, **_: Any) -> list[Candidate]:
    today = local_date(now)
    end_dates = list(
        AccessEndDate.objects.filter(ended_by(today), account=account, status__in=AccessEndDate.OPEN,
                                     op_user__removed_at__isnull=True)
        .exclude(service_accounts("op_user__"))
        .select_related("op_user")
        .order_by("covers_all", "ends_on", "pk")
    )  # fmt: skip
    if not end_dates:
        return []
    reach, scoped = vaults_by_user(account), scoped_vault_ids(end_dates)
    names = dict(Vault.objects.filter(account=account).values_list("pk", "name"))
    found: dict[str, Candidate] = {}
    whole: dict[int, set[int]] = {}
    for end_date in sorted(end_dates, key=lambda e: (not e.covers_all, e.ends_on, e.pk)):
        left = still_reachable(end_date, reach=reach, scoped=scoped)
        if not left:
            continue
        user_pk = end_date.op_user_id
        if end_date.covers_all:
            whole[user_pk] = left
            found[f"user:{user_pk}"] = _candidate(end_date, left, key=f"user:{user_pk}", names=names, today=today,
                                                  vault_id=None)  # fmt: skip
            continue
        for vault_id in sorted(left - whole.get(user_pk, set())):
            key = f"user:{user_pk}:vault:{vault_id}"
            if key not in found:  # two scoped end dates naming one vault: the earlier one speaks
                found[key] = _candidate(end_date, {vault_id}, key=key, names=names, today=today, vault_id=vault_id)
    return list(found.values())
