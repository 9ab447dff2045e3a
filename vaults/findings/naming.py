"""unclear_name (low): an item whose title does not say what it is.

Rule (docs/findings-rules.md): an active item whose title, stripped, case-insensitively equals
one of the policy's `generic_titles` OR does not match the policy's `naming_pattern`
(case-insensitive; default `[Service] [Environment] [Type]`). Items in vaults classified
personal are exempt.

One query per policy scope: lower(trim(title)) IN (...) OR NOT title ~* pattern. SQLite runs
the regex through Django's REGEXP function (Python `re`), PostgreSQL natively.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.db.models.functions import Lower, Trim

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
from vaults.findings.models import Finding
from vaults.models import Account, Vault

EXAMPLE = "Stripe Production API Key"


def find(
    *, account: Account, scopes: list[PolicyScope], items: frozenset[int] | None = None, **_: Any
) -> list[Candidate]:
    candidates = []
    for scope in scopes:
        generic = sorted({t.strip().lower() for t in scope.policy.generic_titles if t.strip()})
        pattern = scope.policy.naming_pattern
        rows = (
            only_items(active_item_rows(account), items)
            .filter(scope.q())
            .exclude(vault__classification=Vault.Classification.PERSONAL)
            .annotate(normalised_title=Lower(Trim("title")))
            .filter(Q(normalised_title__in=generic) | ~Q(title__iregex=pattern))
            .values(*ITEM_VALUES, "normalised_title")
        )
        for row in rows:
            if row["normalised_title"] in generic:
                why = "is a generic title that could be anything"
            else:
                why = f"does not follow the naming convention [Service] [Environment] [Type], e.g. “{EXAMPLE}”"
            candidates.append(
                item_candidate(
                    Finding.Kind.UNCLEAR_NAME,
                    Finding.Severity.LOW,
                    row,
                    title=short(f"Unclear name: {row['title']}"),
                    explanation=f"The title {quoted(row['title'])} {why}.",
                    recommended_action="Rename it to say which service, environment and kind of secret it holds.",
                    details={"generic": row["normalised_title"] in generic},
                )
            )
    return candidates
