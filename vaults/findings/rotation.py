"""overdue_rotation (medium; high on production vaults) and rotation_due_soon (low).

Rule (docs/findings-rules.md): every secret that is not one person's own rotates —
1. items of the policy's `rotating_categories` (API_CREDENTIAL, DATABASE, SERVER, SSH_KEY),
2. LOGIN items tagged with one of `service_account_tags` (`service-account`), and
3. LOGIN and PASSWORD items in a vault classified production or shared: a login kept there is
   known to several people or machines, so it is not a person's own memorised secret.
Vaults classified personal (Private vaults included) hold people's own logins: only 1 and 2 apply
there. NIST SP 800-63B §5.1.1.2 advises against forcing a person to change their own memorised
secret on a schedule; it does not cover a credential several people or machines share, which
must change when any of them leaves and so rotates on a period. Age = now - the secret field's `changed_at` (the
oldest of the item's concealed fields when it has several: any stale secret is due). Overdue when
age > the vault's rotation period (`rotation_days_production` for vaults classified production,
else `rotation_days_nonprod`). Due soon when not overdue but overdue within `due_soon_days`.
People's own logins (anything else, and everything in personal vaults) are never forced into
rotation.

1. Per policy scope: active items of rotating kinds, MIN(secret_fields.changed_at) per item
   (GROUP BY item), with the vault's overdue and due-soon cut-offs as CASE expressions.
2. HAVING oldest < the due-soon cut-off; overdue vs due soon is decided on the returned row.

An incremental run passes `items`; `drifting_items` names the items whose finding the clock alone
changed between two runs (a new kind, or another day of age), decided by the same `_state`.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import connection
from django.db.models import Case, DateTimeField, Min, Q, QuerySet, Value, When

from vaults.findings.candidate import (
    ITEM_VALUES,
    Candidate,
    PolicyScope,
    active_item_rows,
    item_candidate,
    only_items,
    quoted,
    short,
)
from vaults.findings.jsonsql import JSONListHasAny
from vaults.findings.models import EffectivePolicy, Finding
from vaults.models import Account, Vault

PRODUCTION = Vault.Classification.PRODUCTION
# Vaults whose logins are shared by definition (rule 3).
SHARED_VAULT_CLASSES = (Vault.Classification.PRODUCTION, Vault.Classification.SHARED)
SHARED_LOGIN_CATEGORIES = ("LOGIN", "PASSWORD")


def _cutoff(now: datetime.datetime, *, production_days: int, other_days: int) -> Case:
    return Case(
        When(vault__classification=PRODUCTION, then=Value(now - datetime.timedelta(days=production_days))),
        default=Value(now - datetime.timedelta(days=other_days)),
        output_field=DateTimeField(),
    )


def _rotating(policy: EffectivePolicy) -> Q:
    return (
        Q(category__in=list(policy.rotating_categories))
        | (Q(category="LOGIN") & Q(JSONListHasAny("tags", policy.service_account_tags)))
        | (Q(category__in=SHARED_LOGIN_CATEGORIES) & Q(vault__classification__in=SHARED_VAULT_CLASSES))
    )


def _due_rows(
    account: Account, scope: PolicyScope, now: datetime.datetime, items: frozenset[int] | None
) -> QuerySet[Any]:
    """Rotating items of the scope whose oldest secret is due soon or overdue at `now`."""
    policy, soon = scope.policy, scope.policy.due_soon_days
    return (
        only_items(active_item_rows(account), items)
        .filter(scope.q(), _rotating(policy), secret_fields__changed_at__isnull=False)
        .values(*ITEM_VALUES)
        .annotate(oldest=Min("secret_fields__changed_at"))
        .filter(
            oldest__lt=_cutoff(
                now,
                production_days=policy.rotation_days_production - soon,
                other_days=policy.rotation_days_nonprod - soon,
            )
        )
        .order_by()
    )


def _state(oldest: datetime.datetime, *, now: datetime.datetime, period: int, soon: int) -> tuple[str, int] | None:
    """(kind, age in days) of the item's finding at `now`, None when it has none."""
    if oldest < now - datetime.timedelta(days=period):
        return Finding.Kind.OVERDUE_ROTATION, (now - oldest).days
    if oldest < now - datetime.timedelta(days=period - soon):
        return Finding.Kind.ROTATION_DUE_SOON, (now - oldest).days
    return None


def drifting_items(
    *, account: Account, since: datetime.datetime, now: datetime.datetime, scopes: list[PolicyScope]
) -> set[int]:
    """Items whose finding (`_state`) may differ at `now` from at `since` with nothing but time
    passing; a superset, which the rule then recomputes exactly.

    Every item with a finding at `since` still has one at `now` (a cut-off only moves later), so
    an item whose state differs is due at `now`, and its oldest secret either crossed a cut-off
    between the two runs or is one more whole day old. The test runs on every secret field (the
    oldest is one of them) without grouping: no GROUP BY over the 110k fields, only the few rows
    that match come back."""
    cutoffs = sorted(
        {days for s in scopes for p in (s.policy.rotation_days_production, s.policy.rotation_days_nonprod)
         for days in (p, p - s.policy.due_soon_days)}
    )  # fmt: skip
    crossed = " OR ".join(["(s.changed_at >= %s AND s.changed_at < %s)"] * len(cutoffs))
    crossed_params = [
        t for days in cutoffs for t in (since - datetime.timedelta(days=days), now - datetime.timedelta(days=days))
    ]
    sql = (
        "SELECT DISTINCT s.item_id FROM vaults_secretfield s JOIN vaults_item i ON i.id = s.item_id "  # noqa: S608 — only %s marks are interpolated
        "JOIN vaults_vault v ON v.id = i.vault_id WHERE v.account_id = %s AND s.changed_at < %s AND ("
        "floor(extract(epoch FROM (%s - s.changed_at)) / 86400) <> floor(extract(epoch FROM (%s - s.changed_at)) / 86400)"
        f" OR {crossed})"
    )
    if connection.vendor != "postgresql":  # incremental runs are PostgreSQL's (vaults/findings/incremental.py)
        raise NotImplementedError("drifting_items needs PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute(sql, [account.pk, now - datetime.timedelta(days=cutoffs[0]), now, since, *crossed_params])
        return {row[0] for row in cursor.fetchall()}


def find(
    *,
    account: Account,
    now: datetime.datetime,
    scopes: list[PolicyScope],
    items: frozenset[int] | None = None,
    **_: Any,
) -> list[Candidate]:
    candidates = []
    for scope in scopes:
        policy = scope.policy
        for row in _due_rows(account, scope, now, items):
            production = row["vault__classification"] == PRODUCTION
            period = policy.rotation_days_production if production else policy.rotation_days_nonprod
            age_days = (now - row["oldest"]).days
            last = row["oldest"].date().isoformat()
            details = {"changed_at": last, "age_days": age_days, "period_days": period}
            state = _state(row["oldest"], now=now, period=period, soon=policy.due_soon_days)
            if state is not None and state[0] == Finding.Kind.OVERDUE_ROTATION:
                candidates.append(
                    item_candidate(
                        Finding.Kind.OVERDUE_ROTATION,
                        Finding.Severity.HIGH if production else Finding.Severity.MEDIUM,
                        row,
                        title=short(f"Rotation overdue: {row['title']}"),
                        explanation=(
                            f"The secret of {quoted(row['title'])} was last changed on {last}, {age_days} days "
                            f"ago; {'production' if production else 'this'} vault requires rotation every {period} days."
                        ),
                        recommended_action="Rotate the secret at its source and update the item.",
                        details=details,
                    )
                )
            else:
                due = (row["oldest"] + datetime.timedelta(days=period)).date().isoformat()
                candidates.append(
                    item_candidate(
                        Finding.Kind.ROTATION_DUE_SOON,
                        Finding.Severity.LOW,
                        row,
                        title=short(f"Rotation due soon: {row['title']}"),
                        explanation=(
                            f"The secret of {quoted(row['title'])} was last changed on {last}; "
                            f"rotation every {period} days makes it due on {due}."
                        ),
                        recommended_action="Plan the rotation before the due date.",
                        details={**details, "due": due},
                    )
                )
    return candidates
