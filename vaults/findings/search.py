"""Filtering, searching and sorting findings for the list page, the command and the API.

Search is forgiving: each query token is expanded through a small synonym table and must match
(case-insensitive substring) at least one of its alternatives in the finding's search text, so
"db password prod" finds "PostgreSQL Production" (category DATABASE, a field labelled password).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from vaults.findings.models import Finding
from vaults.models import Vault

SYNONYMS: dict[str, tuple[str, ...]] = {
    "db": ("database", "postgres", "postgresql", "mysql", "sql", "mongo", "redis"),
    "prod": ("production",),
    "pw": ("password",),
    "pwd": ("password",),
    "pass": ("password",),
    "key": ("api key",),
    "apikey": ("api key", "api_key", "api credential"),
    "creds": ("credential",),
}

MAX_TOKENS = 10  # a longer query is noise and would only build a slower WHERE clause

SORTS: dict[str, tuple[str, ...]] = {
    "severity": ("-severity_rank", "kind", "title", "pk"),
    "kind": ("kind", "-severity_rank", "title", "pk"),
    "first_seen": ("first_seen", "pk"),
    "-first_seen": ("-first_seen", "-pk"),
    "title": ("title", "pk"),
}


def alternatives(token: str) -> tuple[str, ...]:
    token = token.lower()
    return (token, *SYNONYMS.get(token, ()))


def search_q(query: str) -> Q:
    """AND over tokens of (OR over each token's alternatives)."""
    condition = Q()
    for token in query.split()[:MAX_TOKENS]:
        any_of = Q()
        for alternative in alternatives(token):
            any_of |= Q(search_text__icontains=alternative)
        condition &= any_of
    return condition


def filtered_findings(
    *,
    q: str = "",
    kind: str = "",
    severity: str = "",
    vault: Vault | None = None,
    status: str = "",
    sort: str = "",
    **_: object,
) -> QuerySet[Finding]:
    """Findings matching the filters; `status` "" means open, "all" means any. A vault matches
    findings about its items and groups that include one of its items."""
    findings = Finding.objects.select_related("account", "vault", "item", "op_user")
    if status != "all":
        findings = findings.filter(status=status or Finding.Status.OPEN)
    if kind:
        findings = findings.filter(kind=kind)
    if severity:
        findings = findings.filter(severity=severity)
    if vault is not None:
        # A UNION of ids, not an OR with EXISTS: each side uses an index.
        direct = findings.filter(vault=vault).order_by().values("pk")
        in_group = Finding.related_items.through.objects.filter(item__vault=vault).order_by().values("finding_id")
        findings = findings.filter(pk__in=direct.union(in_group))
    if q.strip():
        findings = findings.filter(search_q(q))
    return findings.order_by(*SORTS.get(sort or "severity", SORTS["severity"]))
