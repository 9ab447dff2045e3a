"""One search over items, vaults, people, groups and findings (issue #15), for the search page,
the header box and the API.

How a query matches:
1. It is split into words (at most MAX_WORDS, lower-cased); a hit must match *every* word, in any
   order, somewhere in its search document (items: title, tags, URL hosts, and the name of their
   vault; vaults: name, description; people: name, e-mail; groups: name; findings: title, kind,
   item and vault). Documents never hold a field value, notes, a fingerprint or a full URL.
2. PostgreSQL: a word matches when pg_trgm's word similarity between it and some stretch of the
   document is at least WORD_SIMILARITY (the `%>` operator, answered by the GIN indexes of
   migration 0009), so "strpe" finds "Stripe" and "prod" finds "Production"; a two-letter word
   matches the start of a word ("77" finds "Sentry 77" and "770", not "1770"), through the index
   too. One-letter words are dropped.
3. SQLite (the demo): the same rule in Python over the rows' documents (at most
   FALLBACK_SCAN_LIMIT rows per kind): a word matches a substring, or a document word within one
   edit (insert, delete, replace, swap two neighbours) when the word has FALLBACK_TYPO_CHARS or more.
4. Ranking (`ranked_pks`): per word, a whole word of the label beats the start of one, which beats
   a piece of the document, which beats a typo or the vault's name; then the shorter label. At most
   CANDIDATES matches per kind are ranked and counted, so a broad word ("key" in 40,000 titles)
   costs the same as a narrow one: the page then says "250+" and the person adds a word.

Who sees what: the same rows as the inventory pages: every role with VIEW_INVENTORY sees every
vault's metadata (docs/security.md, "What each role sees"); without it, nothing. Live vaults and
active items only, like the vault list and a vault's item table; open findings only, like the
findings list.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.postgres.lookups import TrigramWordSimilar
from django.db import connection, transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, F, Func, Q, QuerySet, TextField, Value
from django.urls import reverse

from openclaw_web.roles import Capability, has_capability
from vaults.findings.models import KIND_SEARCH_WORDS, Finding
from vaults.models import Item, OpGroup, OpUser, Vault
from vaults.models.inventory import ACTIVE_ITEMS

MAX_WORDS = 6
MAX_QUERY_CHARS = 200
# A one-letter word is dropped: its two trigrams ("  a", " a ") match nearly every document.
MIN_WORD_CHARS = 2
# pg_trgm's default (0.6) misses one dropped letter in a short word: "strpe" ~ "stripe" is 0.5.
WORD_SIMILARITY = 0.5
# Matches ranked and counted per kind. Each costs a trigram comparison, ~14 µs an item and ~25 µs
# a finding at 100,000 items (EXPLAIN ANALYZE); ranking all 40,000 matches of "key" took ~450 ms.
# bench/bench_search.py, 50 queries, 2 cores at load ≈ 6.5: p95 162 ms with 500 candidates, 112 ms with 250.
CANDIDATES = 250
PER_TYPE = 10
FALLBACK_SCAN_LIMIT = 50_000
FALLBACK_TYPO_CHARS = 4

KINDS: tuple[tuple[str, str], ...] = (
    ("items", "Items"),
    ("vaults", "Vaults"),
    ("people", "People"),
    ("groups", "Groups"),
    ("findings", "Findings"),
)
KIND_NAMES = tuple(kind for kind, _ in KINDS)


@dataclass(frozen=True)
class Hit:
    pk: int
    label: str
    secondary: str
    url: str  # "" for a thing without a page of its own (groups)


@dataclass(frozen=True)
class HitGroup:
    kind: str
    title: str
    hits: list[Hit]
    total: int
    capped: bool  # `total` is a floor: more than CANDIDATES matched
    more_url: str = ""


@dataclass
class SearchResults:
    query: str
    words: tuple[str, ...]
    groups: list[HitGroup] = field(default_factory=list)

    @property
    def too_short(self) -> bool:
        """Something was typed, but only one-letter words."""
        return bool(self.query.strip()) and not self.words

    @property
    def total(self) -> int:
        return sum(group.total for group in self.groups)


def query_words(q: str) -> tuple[str, ...]:
    words = [w for w in q[:MAX_QUERY_CHARS].lower().split() if len(w) >= MIN_WORD_CHARS]
    return tuple(dict.fromkeys(words))[:MAX_WORDS]


def may_search(user: AbstractBaseUser | AnonymousUser) -> bool:
    return has_capability(user, Capability.VIEW_INVENTORY)


def search(
    user: AbstractBaseUser | AnonymousUser, q: str, *, per_type: int = PER_TYPE, kinds: Sequence[str] = KIND_NAMES
) -> SearchResults:
    """Hits grouped by kind (items, vaults, people, groups, findings), best first, for what `user`'s
    pages would show them. A kind with no hit is left out."""
    results = SearchResults(query=q, words=query_words(q))
    if not results.words or results.too_short or not may_search(user):
        return results
    with typo_tolerance():
        matcher = _matcher_for(results.words)
        for kind, title in KINDS:
            if kind not in kinds:
                continue
            ranked, total = matcher.rank(kind)
            if total:
                hits = _hits(kind, ranked[:per_type])
                results.groups.append(
                    HitGroup(kind=kind, title=title, hits=hits, total=total, capped=total > CANDIDATES,
                             more_url=_more_url(kind, q))
                )  # fmt: skip
    return results


def filter_items(items: QuerySet[Item], q: str) -> QuerySet[Item]:
    """`items` narrowed to those the search would find for `q` (every match, not CANDIDATES: the
    API pages through them by id). Run the result inside `typo_tolerance()`."""
    words = query_words(q)
    if not words:
        return items.none() if q.strip() else items
    if connection.vendor == "postgresql":
        return items.filter(_TrigramMatcher(words).item_condition())
    return items.filter(pk__in=_FallbackMatcher(words).matching_pks("items", limit=None))


@contextmanager
def typo_tolerance() -> Iterator[None]:
    """Queries inside use WORD_SIMILARITY as pg_trgm's threshold, and the trigram indexes.

    Both are SET LOCAL (this transaction only). Without `enable_seqscan = off` the planner, which
    prices a trigram comparison like an integer one, scans the table for a word in 10% of titles
    and compares ~10,000 rows to fill the first candidates: 86 ms instead of 20 ms (EXPLAIN ANALYZE
    at 100,000 items)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true), set_config('enable_seqscan', 'off', true)",
                    [str(WORD_SIMILARITY)],
                )
        yield


# --- matching ---------------------------------------------------------------------------------


class _Matcher:
    def rank(self, kind: str) -> tuple[list[int], int]:
        """(primary keys best first, number of matches up to CANDIDATES + 1)."""
        raise NotImplementedError


def _matcher_for(words: tuple[str, ...]) -> _Matcher:
    return _TrigramMatcher(words) if connection.vendor == "postgresql" else _FallbackMatcher(words)


def _document(function: str, *columns: str) -> Func:
    return Func(*(F(c) for c in columns), function=function, output_field=TextField())


DOCUMENTS: dict[str, Callable[[], Func | F]] = {
    "items": lambda: _document("openclaw_item_search_doc", "title", "tags", "urls"),
    "vaults": lambda: _document("openclaw_vault_search_doc", "name", "description"),
    "people": lambda: _document("openclaw_person_search_doc", "name", "email"),
    "groups": lambda: _document("openclaw_group_search_doc", "name"),
    "findings": lambda: F("search_document"),  # stored, folded as the others (findings migration 0014)
}


LABEL_COLUMNS = {"items": "title", "vaults": "name", "people": "name", "groups": "name", "findings": "title"}


def visible(kind: str) -> QuerySet[Any]:
    """The rows of a kind the pages list: live vaults, active items, open findings, every person
    and group."""
    querysets: dict[str, Callable[[], QuerySet[Any]]] = {
        "items": lambda: Item.objects.filter(ACTIVE_ITEMS, vault__removed_at__isnull=True),
        "vaults": lambda: Vault.objects.filter(removed_at__isnull=True),
        "people": lambda: OpUser.objects.all(),
        "groups": lambda: OpGroup.objects.all(),
        "findings": lambda: Finding.objects.filter(status=Finding.Status.OPEN),
    }
    return querysets[kind]()


class _TrigramMatcher(_Matcher):
    def __init__(self, words: tuple[str, ...]) -> None:
        self.words = words
        self._vaults_per_word: list[set[int]] | None = None
        self._finding_kinds_per_word: list[list[str]] | None = None

    def _word_condition(self, document: Func | F, word: str) -> Q:
        return Q(TrigramWordSimilar(document, Value(word)))

    def _condition(self, kind: str) -> Q:
        document = DOCUMENTS[kind]()
        condition = Q()
        for n, word in enumerate(self.words):
            word_condition = self._word_condition(document, word)
            if kind == "findings" and self.finding_kinds_per_word()[n]:
                word_condition |= Q(kind__in=self.finding_kinds_per_word()[n])
            condition &= word_condition
        return condition

    def finding_kinds_per_word(self) -> list[list[str]]:
        """For each word, the finding kinds whose words (KIND_SEARCH_WORDS) it matches by the same
        rule as a document (one query on constants): a finding's search text no longer repeats its
        kind's words, so "duplicate" or "reusd" finds those findings through their kind."""
        if self._finding_kinds_per_word is None:
            kinds, words = zip(*KIND_SEARCH_WORDS.items(), strict=True)
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT w.n, k.kind FROM unnest(%s::text[]) WITH ORDINALITY AS w(word, n) "
                    "JOIN unnest(%s::text[], %s::text[]) AS k(kind, words) ON k.words %%> w.word",
                    [list(self.words), list(kinds), list(words)],
                )
                matched = cursor.fetchall()
            self._finding_kinds_per_word = [sorted(k for n, k in matched if n == i + 1) for i in range(len(self.words))]
        return self._finding_kinds_per_word

    def vaults_per_word(self) -> list[set[int]]:
        """For each word, the live vaults whose name or description matches it (one query): an
        item matches a word through its vault, so "prod stripe" finds "Stripe" in "Production"."""
        if self._vaults_per_word is None:
            document = DOCUMENTS["vaults"]()
            conditions = [self._word_condition(document, w) for w in self.words]
            any_word = Q()
            for condition in conditions:
                any_word |= condition
            flags = {f"w{i}": ExpressionWrapper(c, output_field=BooleanField()) for i, c in enumerate(conditions)}
            rows = visible("vaults").filter(any_word).annotate(**flags).values("pk", *flags)
            per_word: list[set[int]] = [set() for _ in self.words]
            for row in rows:
                for i in range(len(self.words)):
                    if row[f"w{i}"]:
                        per_word[i].add(row["pk"])
            self._vaults_per_word = per_word
        return self._vaults_per_word

    def item_condition(self) -> Q:
        document = DOCUMENTS["items"]()
        condition = Q()
        for word, vault_ids in zip(self.words, self.vaults_per_word(), strict=True):
            condition &= self._word_condition(document, word) | Q(vault_id__in=vault_ids)
        return condition

    def rank(self, kind: str) -> tuple[list[int], int]:
        """Candidates from the index, ranked here: asking pg_trgm for a similarity per word would
        recompute every candidate's trigrams once more (the dominant cost, ~5 µs a row)."""
        condition = self.item_condition() if kind == "items" else self._condition(kind)
        found = visible(kind).filter(condition).order_by().annotate(ranked_document=DOCUMENTS[kind]())
        if kind == "findings":  # ranked on the document as it was: its kind's words, then its own text
            rows = [
                (pk, label, f"{KIND_SEARCH_WORDS.get(finding_kind, '')} {document or ''}")
                for pk, label, document, finding_kind in found.values_list(
                    "pk", LABEL_COLUMNS[kind], "ranked_document", "kind"
                )[: CANDIDATES + 1]
            ]
        else:
            rows = list(found.values_list("pk", LABEL_COLUMNS[kind], "ranked_document")[: CANDIDATES + 1])
        return ranked_pks(self.words, rows), len(rows)


def word_score(word: str, label: str, document: str) -> float:
    """How closely one word matches a hit: a whole word of its label 1.0, the start of one 0.8, a
    piece of its document 0.6, anything looser (a typo, its vault's name) 0.3."""
    label_words = _DOCUMENT_WORD.findall(label)
    if word in label_words:
        return 1.0
    if any(w.startswith(word) for w in label_words):
        return 0.8
    return 0.6 if word in document else 0.3


def ranked_pks(words: Sequence[str], rows: Iterable[tuple[int, str | None, str | None]]) -> list[int]:
    """Best first: the sum of the words' scores, then the shorter label (a closer match), then A-Z."""

    def key(row: tuple[int, str | None, str | None]) -> tuple[float, int, str, int]:
        label = (row[1] or "").lower()
        return (-sum(word_score(w, label, row[2] or label) for w in words), len(label), label, row[0])

    return [row[0] for row in sorted(rows, key=key)]


def within_one_edit(word: str, candidate: str) -> bool:
    """Damerau-Levenshtein distance of at most 1 (one insert, delete, replace or neighbour swap)."""
    if word == candidate:
        return True
    if abs(len(word) - len(candidate)) > 1:
        return False
    if len(word) == len(candidate):
        diffs = [i for i, (a, b) in enumerate(zip(word, candidate, strict=True)) if a != b]
        if len(diffs) == 1:
            return True
        swapped = len(diffs) == 2 and diffs[1] == diffs[0] + 1
        return swapped and word[diffs[0]] == candidate[diffs[1]] and word[diffs[1]] == candidate[diffs[0]]
    shorter, longer = sorted((word, candidate), key=len)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))


_DOCUMENT_WORD = re.compile(r"\w+")


def fallback_word_matches(word: str, document: str) -> float:
    """How well one query word matches a lower-cased document on SQLite: 1.0 as a substring,
    0.5 within one edit of a document word (words of FALLBACK_TYPO_CHARS or more), else 0."""
    if word in document:
        return 1.0
    if len(word) >= FALLBACK_TYPO_CHARS and any(within_one_edit(word, w) for w in _DOCUMENT_WORD.findall(document)):
        return 0.5
    return 0.0


def _url_hosts(urls: Any) -> list[str]:
    hosts = []
    for entry in urls if isinstance(urls, list) else []:
        href = entry.get("href") if isinstance(entry, dict) else None
        if isinstance(href, str):
            match = re.match(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://)?([^/:?#@\s]+)", href)
            if match:
                hosts.append(match.group(1))
    return hosts


def _text_list(values: Any) -> list[str]:
    return [str(v) for v in values] if isinstance(values, list) else []


FALLBACK_COLUMNS: dict[str, tuple[str, ...]] = {
    "items": ("title", "tags", "urls", "vault__name", "vault__description"),
    "vaults": ("name", "description"),
    "people": ("name", "email"),
    "groups": ("name",),
    "findings": ("title", "kind", "search_text"),
}


def fallback_document(kind: str, row: dict[str, Any]) -> str:
    """The same document the PostgreSQL functions build (items also carry their vault's text)."""
    if kind == "items":
        parts = [row["title"], *_text_list(row["tags"]), *_url_hosts(row["urls"]), row["vault__name"], row["vault__description"]]
    elif kind == "findings":  # a finding's kind stands for its words (KIND_SEARCH_WORDS)
        parts = [row["title"], KIND_SEARCH_WORDS.get(row["kind"], ""), row["search_text"]]
    else:
        parts = [row[column] for column in FALLBACK_COLUMNS[kind]]
    return " ".join(str(p or "") for p in parts).lower()


class _FallbackMatcher(_Matcher):
    def __init__(self, words: tuple[str, ...]) -> None:
        self.words = words

    def _scored(self, kind: str, limit: int | None) -> list[tuple[int, str, str]]:
        """(pk, label, document) of the matching rows, in primary-key order."""
        label_column = LABEL_COLUMNS[kind]
        rows = visible(kind).order_by("pk").values("pk", *FALLBACK_COLUMNS[kind])[:FALLBACK_SCAN_LIMIT]
        matched = []
        for row in rows:
            document = fallback_document(kind, row)
            if all(fallback_word_matches(word, document) for word in self.words):
                matched.append((row["pk"], row[label_column] or "", document))
                if limit is not None and len(matched) > limit:
                    break
        return matched

    def matching_pks(self, kind: str, *, limit: int | None) -> list[int]:
        return [pk for pk, _, _ in self._scored(kind, limit)]

    def rank(self, kind: str) -> tuple[list[int], int]:
        scored = self._scored(kind, CANDIDATES)
        return ranked_pks(self.words, [(pk, label, document) for pk, label, document in scored]), len(scored)


# --- shaping hits -----------------------------------------------------------------------------

def _hits(kind: str, pks: list[int]) -> list[Hit]:
    shapers: dict[str, Callable[[list[int]], dict[int, Hit]]] = {
        "items": _item_hits, "vaults": _vault_hits, "people": _person_hits, "groups": _group_hits, "findings": _finding_hits,
    }  # fmt: skip
    by_pk = shapers[kind](pks)
    return [by_pk[pk] for pk in pks if pk in by_pk]


def _item_hits(pks: list[int]) -> dict[int, Hit]:
    items = Item.objects.filter(pk__in=pks).select_related("vault")
    return {
        i.pk: Hit(i.pk, i.title, " · ".join(filter(None, [i.vault.name, i.category.replace("_", " ").title(), *_url_hosts(i.urls)[:1]])),
                  reverse("vaults:item", args=[i.pk]))
        for i in items
    }  # fmt: skip


def _vault_hits(pks: list[int]) -> dict[int, Hit]:
    vaults = Vault.objects.filter(pk__in=pks).select_related("account")
    return {
        v.pk: Hit(v.pk, v.name, f"{v.get_classification_display()} · {v.account.name}", reverse("vaults:detail", args=[v.pk]))
        for v in vaults
    }


def _person_hits(pks: list[int]) -> dict[int, Hit]:
    people = OpUser.objects.filter(pk__in=pks)
    return {
        p.pk: Hit(p.pk, p.name or p.email or p.op_id, " · ".join(filter(None, [p.email, p.state_label if p.state_class != "active" else ""])),
                  reverse("vaults:person", args=[p.pk]))
        for p in people
    }  # fmt: skip


def _group_hits(pks: list[int]) -> dict[int, Hit]:
    groups = OpGroup.objects.filter(pk__in=pks).annotate(members=Count("memberships", distinct=True))
    return {g.pk: Hit(g.pk, g.name, f"Group · {g.members} member{'s' if g.members != 1 else ''}", "") for g in groups}


def _finding_hits(pks: list[int]) -> dict[int, Hit]:
    findings = Finding.objects.filter(pk__in=pks).select_related("vault")
    return {
        f.pk: Hit(f.pk, f.title, " · ".join(filter(None, [f.get_kind_display(), f.get_severity_display(), f.vault.name if f.vault else ""])),
                  reverse("findings:detail", args=[f.pk]))
        for f in findings
    }  # fmt: skip


def _more_url(kind: str, q: str) -> str:
    """Where "show more" goes: the search page narrowed to one kind (no other page searches
    across every vault's items)."""
    return f"{reverse('search')}?{urlencode({'q': q, 'type': kind})}"
