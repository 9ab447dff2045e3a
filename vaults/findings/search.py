"""Filtering, searching and sorting findings for the list page, the API, the ticket export and
the cleanup proposals (every one calls `filtered_findings`).

Search is forgiving: each query token is expanded through a small synonym table and must match
(case-insensitive substring) at least one of its alternatives in the finding's search text, so
"db password prod" finds "PostgreSQL Production" (category DATABASE, a field labelled password).
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import BooleanField, F, Func, Q, QuerySet, Value
from django.db.models.functions import Collate, Lower, Upper

from vaults.findings.models import Finding, kinds_containing
from vaults.findings.vault_scope import ids_in_vault
from vaults.models import Vault
from vaults.search import DOCUMENTS

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
    """AND over tokens of (OR over each token's alternatives), each a case-insensitive substring
    of the search text.

    PostgreSQL: `document LIKE ANY('{%alternative%, ...}')` per token, on the finding's stored,
    folded search document (`Finding.search_document`, shared with the global search in
    vaults/search.py), instead of an OR of unindexed `UPPER(search_text) LIKE`s:
    1. the document's trigram index (open findings) answers a token whose alternatives all hold
       three letters or digits in a row, so a rare word reads a few rows instead of every finding;
    2. the column's statistics tell the planner how common a word is: a common one ("password")
       walks the list's sort index and stops at the page, a rare one takes the trigram index;
    3. a token with a shorter alternative ("db", or "qa") has no trigram to look up: it is
       checked, same meaning, on the rows the other tokens or the sort order bring. It names the
       document in the "C" collation: LIKE compares bytes in any collation and the statistics
       still apply, but the index (default collation) does not match, so the planner cannot put
       it into the index scan, where it would read every entry (0.2 s at 244,000 findings) and
       make the index useless for the other words too. Alone, such a token is checked on every
       open finding: the document is stored already folded, so a row costs a byte search, not a
       fold (170 → 48 ms for "qa" at 134,000 open findings; findings migration 0014);
    4. one `ANY` per token reads the document once for all its alternatives;
    5. the document is the search text, or the title when the search text is empty: the
       `search_text <> ''` guard keeps such a finding out, as before;
    6. the words of a finding's kind (KIND_SEARCH_WORDS: "duplicate", "reused", "rotation") are
       not in its search text: a token one of them contains also matches `kind IN (...)`, which
       the kind index answers. Most tokens name no kind, and their condition is the document's.
    Both sides are folded by PostgreSQL as lower(upper(x)): the same letters meet as when both
    were upper-cased before (Greek final sigma, Turkish dotless i; migration findings 0010).

    SQLite (the demo): the plain `icontains` on the search text, or the kind as in 6."""
    tokens = query.split()[:MAX_TOKENS]
    if not tokens:
        return Q()
    if connection.vendor != "postgresql":
        condition = ~Q(search_text="")
        for token in tokens:
            any_of = _of_kinds(alternatives(token))
            for alternative in alternatives(token):
                any_of |= Q(search_text__icontains=alternative)
            condition &= any_of
        return condition
    condition = ~Q(search_text="")
    for token in tokens:
        options = alternatives(token)
        document = DOCUMENTS["findings"]()
        if not all(_TRIGRAM.search(option) for option in options):
            document = Collate(document, "C")
        condition &= Q(_ContainsAny(document, options)) | _of_kinds(options)
    return condition


def _of_kinds(options: tuple[str, ...]) -> Q:
    """Findings of the kinds whose words (KIND_SEARCH_WORDS) contain one of the options, as their
    search text once did. No such kind (most words): an empty Q, so OR-ed with the document's
    condition it leaves that condition alone, planned as before."""
    kinds = sorted({kind for option in _folded(options) for kind in kinds_containing(option)})
    return Q(kind__in=kinds) if kinds else Q()


def _folded(options: tuple[str, ...]) -> list[str]:
    """The options folded exactly as the document side folds them: PostgreSQL's lower(upper(x))
    (one query on constants; Python's own case mapping differs, e.g. it turns "ß" into "ss"), or
    SQLite's LIKE, which folds ASCII letters only."""
    if connection.vendor != "postgresql":
        return [option.lower() for option in options if option.isascii()]
    with connection.cursor() as cursor:
        cursor.execute("SELECT lower(upper(o)) FROM unnest(%s::text[]) AS o", [list(options)])
        return [row[0] for row in cursor.fetchall()]


# What pg_trgm surely extracts a trigram from: three letters or digits in a row ("_" separates words).
_TRIGRAM = re.compile(r"[^\W_]{3}")


class _ContainsAny(Func):
    """`document LIKE ANY(ARRAY[lower('%alternative%'), ...])`: true when the (lower-cased)
    document contains one of the alternatives. PostgreSQL folds the patterns to constants when
    planning, so the trigram index and the statistics see them."""

    arg_joiner = " LIKE ANY(ARRAY["
    template = "(%(expressions)s]))"
    output_field = BooleanField()

    def __init__(self, document: Func | F | Collate, alternatives: tuple[str, ...]) -> None:
        patterns = [Lower(Upper(Value(f"%{connection.ops.prep_for_like_query(a)}%"))) for a in alternatives]
        super().__init__(document, _Joined(*patterns))


class _Joined(Func):
    template = "%(expressions)s"


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
    the findings its score counts (vaults/findings/vault_scope.py)."""
    # The stored search document is only matched in SQL: no page or export reads it back.
    findings = Finding.objects.select_related("account", "vault", "item", "op_user").defer("search_document")
    if status != "all":
        findings = findings.filter(status=status or Finding.Status.OPEN)
    if kind:
        findings = findings.filter(kind=kind)
    if severity:
        findings = findings.filter(severity=severity)
    if vault is not None:
        findings = findings.filter(pk__in=ids_in_vault(vault, findings))
    if q.strip():
        findings = findings.filter(search_q(q))
    return findings.order_by(*SORTS.get(sort or "severity", SORTS["severity"]))
