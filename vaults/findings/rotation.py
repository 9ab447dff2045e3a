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
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Case, DateTimeField, Min, Q, Value, When

from vaults.findings.candidate import (
    ITEM_VALUES,
    Candidate,
    PolicyScope,
    active_item_rows,
    item_candidate,
    quoted_list,
    short,
)
from vaults.findings.jsonsql import JSONListHasAny
from vaults.findings.models import Finding
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


def find(*, account: Account, now: datetime.datetime, scopes: list[PolicyScope], **_: Any) -> list[Candidate]:
    candidates = []
    for scope in scopes:
        policy = scope.policy
        rotating = (
            Q(category__in=list(policy.rotating_categories))
            | (Q(category="LOGIN") & Q(JSONListHasAny("tags", policy.service_account_tags)))
            | (Q(category__in=SHARED_LOGIN_CATEGORIES) & Q(vault__classification__in=SHARED_VAULT_CLASSES))
        )
        soon = policy.due_soon_days
        rows = (
            active_item_rows(account)
            .filter(scope.q(), rotating, secret_fields__changed_at__isnull=False)
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
        for row in rows:
            production = row["vault__classification"] == PRODUCTION
            period = policy.rotation_days_production if production else policy.rotation_days_nonprod
            age_days = (now - row["oldest"]).days
            last = row["oldest"].date().isoformat()
            details = {"changed_at": last, "age_days": age_days, "period_days": period}
            if row["oldest"] < now - datetime.timedelta(days=period):
                candidates.append(
                    item_candidate(
                        Finding.Kind.OVERDUE_ROTATION,
                        Finding.Severity.HIGH if production else Finding.Severity.MEDIUM,
                        row,
                        title=short(f"Rotation overdue: {row['title']}"),
                        explanation=(
                            f"The secret of {quoted_list([row['title']])} was last changed on {last}, {age_days} days "
                            f"ago; {'production' if production else 'this'} vault requires rotation every {period} days."
                        ),
                        recommended_action="Rotate the secret at its source and update the item.",
                        details=details,
                        search_extra=("rotate rotation overdue",),
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
                            f"The secret of {quoted_list([row['title']])} was last changed on {last}; "
                            f"rotation every {period} days makes it due on {due}."
                        ),
                        recommended_action="Plan the rotation before the due date.",
                        details={**details, "due": due},
                        search_extra=("rotate rotation due soon",),
                    )
                )
    return candidates
