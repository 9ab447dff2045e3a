"""over_permissioned (medium; high for inactive users with access): one finding per user.

Rule (docs/findings-rules.md). A user is flagged when any of these holds; the explanation lists
every reason with its vaults:
1. an inactive state — SUSPENDED, TRANSFER_SUSPENDED, DELETED, a state OpenClaw does not know,
   or removed from the account — and still holding effective access (directly or via a group)
   to any vault (high: revoke);
1b. a pending state — RECOVERY_STARTED, RECOVERY_ACCEPTED, TRANSFER_STARTED — with access: a
   milder reason of its own (confirm with the person; nothing is revoked for it);
2. a direct (not via group) grant carrying rights beyond need: `manage_vault` or `export_items`
   (`allow_managing` in op's older naming);
3. effective access to more than max(2 * median, median + 5) vaults, the median taken over the
   user's peers: the other active, non-service users sharing at least one group with the user;
   when there are none (no groups, or alone in them), over every other active, non-service user;
4. only when the account has item-usage events at all: a direct grant on a vault the user has
   not used (no item-usage event by the user in that vault) for `unused_access_days`.
Access through a group alone, with normal rights and usage, is never flagged. Service accounts
(type SERVICE_ACCOUNT) are exempt from 3 and 4. OpenClaw's own sync identity (whoami user_uuid,
vaults/findings/sync_identity.py) is never flagged at all: revoking it would stop the sync.

Steps: effective access (three queries, vaults/access.py), memberships (one), last use per (user,
vault) with a direct grant as one GROUP BY over item usages, then one pass per user in Python.
"""

from __future__ import annotations

import bisect
import datetime
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, Max, OuterRef

from vaults.access import AccessRow, effective_access
from vaults.findings.candidate import Candidate, PolicyScope, policy_of_vault, quoted, quoted_list, short
from vaults.findings.models import Finding
from vaults.findings.sync_identity import sync_identity_op_id
from vaults.models import Account, GroupMembership, ItemUsage, OpUser, VaultGrant

# Why a pending state is not an offboarding: the person may be back without anyone acting.
PENDING_EXPLANATION: dict[str, str] = {
    "RECOVERY_STARTED": "account recovery was started for them (they cannot sign in until they complete it)",
    "RECOVERY_ACCEPTED": "their account recovery was accepted and waits for an administrator to confirm it",
    "TRANSFER_STARTED": "their account is being transferred (they keep their access while it completes)",
}


def user_is_inactive(user: OpUser) -> bool:
    """Inactive per op's state (SUSPENDED, TRANSFER_SUSPENDED, DELETED, unknown) or removed."""
    return user.state_class == "inactive"


def user_is_pending(user: OpUser) -> bool:
    return user.state_class == "pending"


# `details` keys that every finding has; a pending-state finding has only these and "pending".
_BASE_DETAILS = frozenset({"user_op_id", "vault_count", "vault_ids"})


def _recommendation(*, inactive: bool, pending_only: bool) -> str:
    if inactive:
        return "Revoke the access (propose a revocation)."
    if pending_only:
        return "Confirm the recovery or transfer with the person; act only if it was not expected."
    return "Grant access through groups with view rights only, and revoke what is not used."


def _severity(*, inactive: bool, pending_only: bool) -> str:
    if inactive:
        return Finding.Severity.HIGH
    return Finding.Severity.LOW if pending_only else Finding.Severity.MEDIUM


def threshold(median: float) -> float:
    return max(2 * median, median + 5)


@dataclass
class _UserAccess:
    user: OpUser
    rows: list[AccessRow] = field(default_factory=list)


def _is_peer_candidate(user: OpUser, own_id: str) -> bool:
    """Active people only: not inactive, not a service account, not OpenClaw's own identity."""
    return not user_is_inactive(user) and not user.is_service_account and user.op_id != own_id


def _median_without(sorted_counts: list[int], own: int | None) -> float | None:
    """Median of `sorted_counts` with one occurrence of `own` taken out (the user is not their
    own peer); None when nothing is left."""
    counts = sorted_counts
    if own is not None:
        position = bisect.bisect_left(counts, own)
        if position < len(counts) and counts[position] == own:
            counts = counts[:position] + counts[position + 1 :]
    return statistics.median(counts) if counts else None


def _last_use(account: Account, since: datetime.datetime) -> dict[tuple[str, str], datetime.datetime]:
    """Last use per (person, vault) since `since`, for the pairs a direct grant joins: rule 4
    judges direct grants only. Every pair used was ~46,000 rows to read back at 100,000 items
    (0.6 s of a 1% recompute's ~2.5 s, bench/bench_findings.py); the direct ones are ~750."""
    direct = VaultGrant.objects.filter(
        vault__account=account,
        user__isnull=False,
        user__op_id=OuterRef("user_op_id"),
        vault__op_id=OuterRef("vault_op_id"),
    )
    rows = (
        ItemUsage.objects.filter(account=account, timestamp__gte=since)
        .filter(Exists(direct))
        .values("user_op_id", "vault_op_id")
        .annotate(last=Max("timestamp"))
        .order_by()
    )
    return {(r["user_op_id"], r["vault_op_id"]): r["last"] for r in rows}


def usage_drifted(
    *, account: Account, since: datetime.datetime, now: datetime.datetime, scopes: list[PolicyScope]
) -> bool:
    """Whether a (person, vault) pair's last use fell behind an unused-access cut-off between
    `since` and `now`: the clock alone changed rule 4 for someone (an incremental run then runs
    this rule; every other input of it is in the change log, vaults/findings/incremental.py)."""
    days = [scope.policy.unused_access_days for scope in scopes]
    longest, shortest = datetime.timedelta(days=max(days)), datetime.timedelta(days=min(days))
    # A pair whose last use passed a cut-off has a use in [since - days, now - days) and none after
    # it: uses in the (short) window between the two runs, without a later one of the same pair,
    # by a person with a direct grant on that vault (rule 4 judges direct grants only).
    direct = VaultGrant.objects.filter(
        vault__account=account, user__op_id=OuterRef("user_op_id"), vault__op_id=OuterRef("vault_op_id")
    )
    later = ItemUsage.objects.filter(
        account=account, user_op_id=OuterRef("user_op_id"), vault_op_id=OuterRef("vault_op_id"),
        timestamp__gte=now - shortest,
    )  # fmt: skip
    passed = ItemUsage.objects.filter(
        account=account, timestamp__gte=since - longest, timestamp__lt=now - shortest
    ).filter(Exists(direct), ~Exists(later))
    return passed.exists()


def _vault_names(rows: Iterable[AccessRow]) -> list[str]:
    return sorted({r.vault.name for r in rows}, key=str.casefold)


def _vault_count(names: list[str]) -> str:
    return f"{len(names)} vault" if len(names) == 1 else f"{len(names)} vaults"


def find(*, account: Account, now: datetime.datetime, scopes: list[PolicyScope], **_: Any) -> list[Candidate]:
    access: dict[int, _UserAccess] = {}
    for row in effective_access(account):
        access.setdefault(row.user.pk, _UserAccess(user=row.user)).rows.append(row)
    if not access:
        return []

    own_id = sync_identity_op_id(account)
    users = {u.pk: u for u in OpUser.objects.filter(account=account)}
    vault_counts = {user_id: len(entry.rows) for user_id, entry in access.items()}
    groups_of: dict[int, set[int]] = {}
    members_of: dict[int, set[int]] = {}
    for user_id, group_id in GroupMembership.objects.filter(
        user__account=account, group__removed_at__isnull=True
    ).values_list("user_id", "group_id"):
        groups_of.setdefault(user_id, set()).add(group_id)
        members_of.setdefault(group_id, set()).add(user_id)

    peer_ids = {uid for uid, u in users.items() if _is_peer_candidate(u, own_id)}  # once, not per peer
    population = sorted(vault_counts.get(uid, 0) for uid in peer_ids)
    peer_counts_cache: dict[frozenset[int], list[int]] = {}

    def peer_median(user: OpUser) -> float | None:
        own = vault_counts.get(user.pk, 0) if user.pk in peer_ids else None
        groups = frozenset(groups_of.get(user.pk, ()))
        if groups:
            if groups not in peer_counts_cache:
                peers = set().union(*(members_of[g] for g in groups))
                peer_counts_cache[groups] = sorted(vault_counts.get(p, 0) for p in peers & peer_ids)
            median = _median_without(peer_counts_cache[groups], own)
            if median is not None:
                return median
        return _median_without(population, own)

    has_usage = ItemUsage.objects.filter(account=account).exists()
    longest = max(scope.policy.unused_access_days for scope in scopes)
    last_use = _last_use(account, now - datetime.timedelta(days=longest)) if has_usage else {}

    candidates = []
    for entry in access.values():
        user = entry.user
        if own_id and user.op_id == own_id:
            continue  # OpenClaw's own identity: shown apart, never flagged (module docstring)
        reasons: list[str] = []
        details: dict[str, Any] = {"user_op_id": user.op_id, "vault_count": len(entry.rows)}
        flagged_vaults: set[int] = set()
        inactive = user_is_inactive(user)
        service = user.is_service_account

        if inactive:
            state = "removed from the account" if user.removed_at else (user.state_label or user.state).lower()
            names = _vault_names(entry.rows)
            reasons.append(f"the user is {state} but can still reach {_vault_count(names)}: {quoted_list(names)}")
            details["inactive"] = {"state": user.state, "vaults": names}
            flagged_vaults |= {r.vault.pk for r in entry.rows}
        elif user_is_pending(user):
            why = PENDING_EXPLANATION.get(user.state.strip().upper(), user.state_label.lower())
            names = _vault_names(entry.rows)
            reasons.append(
                f"{why}; they can reach {_vault_count(names)}: {quoted_list(names)} — confirm with them that this "
                "is expected (no revocation is proposed for a pending state)"
            )
            details["pending"] = {"state": user.state, "vaults": names}

        elevated = [r for r in entry.rows if r.elevated_direct]
        if elevated:
            parts = [f"{quoted(r.vault.name)} ({', '.join(sorted(r.elevated_direct))})" for r in elevated]
            reasons.append("direct grants with rights beyond need: " + "; ".join(parts))
            details["elevated"] = {r.vault.name: sorted(r.elevated_direct) for r in elevated}
            flagged_vaults |= {r.vault.pk for r in elevated}

        if not service:
            median = peer_median(user)
            if median is not None and len(entry.rows) > threshold(median):
                reasons.append(
                    f"access to {len(entry.rows)} vaults where peers typically have {median:g} "
                    f"(flagged above {threshold(median):g})"
                )
                details["breadth"] = {"vaults": len(entry.rows), "peer_median": median, "threshold": threshold(median)}

            if has_usage:
                unused = []
                for row in entry.rows:
                    if not row.via_direct:
                        continue
                    days = policy_of_vault(scopes, row.vault.pk).unused_access_days
                    last = last_use.get((user.op_id, row.vault.op_id))
                    if last is None or last < now - datetime.timedelta(days=days):
                        unused.append((row, days))
                if unused:
                    names = _vault_names(r for r, _ in unused)
                    days_text = sorted({d for _, d in unused})
                    reasons.append(
                        f"direct access not used for {'/'.join(map(str, days_text))} days to {quoted_list(names)}"
                    )
                    details["unused"] = names
                    flagged_vaults |= {r.vault.pk for r, _ in unused}

        if not reasons:
            continue
        label = user.name or user.email or user.op_id
        pending_only = set(details) - _BASE_DETAILS == {"pending"}
        details["vault_ids"] = sorted(flagged_vaults or {r.vault.pk for r in entry.rows})
        candidates.append(
            Candidate(
                kind=Finding.Kind.OVER_PERMISSIONED,
                severity=_severity(inactive=inactive, pending_only=pending_only),
                key=f"user:{user.pk}",
                title=short(
                    f"Access while {user.state_label.lower()}: {label}"
                    if pending_only
                    else f"Over-permissioned: {label}"
                ),
                explanation=(
                    f"{short(label, 120)}: " if pending_only else f"{short(label, 120)} has more access than needed: "
                )
                + "; ".join(reasons)
                + ".",
                recommended_action=_recommendation(inactive=inactive, pending_only=pending_only),
                search_text=" ".join(
                    [
                        user.name,
                        user.email,
                        user.state,
                        *_vault_names(entry.rows),
                    ]
                ).lower(),
                details=details,
                op_user_id=user.pk,
                vault_id=next(iter(flagged_vaults)) if len(flagged_vaults) == 1 else None,
            )
        )
    return candidates
