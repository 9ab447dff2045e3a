"""What every rule module returns, and the scopes rules share: active items, per-vault policy."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from vaults.findings.any_of import AnyOf
from vaults.findings.jsonsql import JSONLabelsText
from vaults.findings.models import EffectivePolicy, Finding, Policy
from vaults.models import Account, Item

# A finding's title is a label in a table, not the item's whole title (which may be 10 kB).
TITLE_LIMIT = 300
# Search text keeps enough of each title to match on; the rest adds nothing but bytes.
SEARCH_TITLE_LIMIT = 500
# Lists of vaults or items named in an explanation stop here; `details` keeps them all.
NAMES_IN_TEXT = 10

KIND_LABELS: dict[str, str] = {str(kind): str(kind.label) for kind in Finding.Kind}

ITEM_VALUES: tuple[str, ...] = (
    "id", "op_id", "title", "category", "labels_text", "vault_id", "vault__name", "vault__classification",
)  # fmt: skip


@dataclass(slots=True)
class Candidate:
    """One finding as a rule sees it now; the engine turns it into an insert or an update."""

    kind: str
    severity: str
    key: str
    title: str
    explanation: str
    recommended_action: str
    search_text: str
    details: dict[str, Any] = field(default_factory=dict)
    vault_id: int | None = None
    item_id: int | None = None
    op_user_id: int | None = None
    related_item_ids: tuple[int, ...] = ()

    def digest(self) -> str:
        # repr() of a tuple of plain values is deterministic (dicts keep insertion order) and, one
        # C call for the whole tuple, several times cheaper than json.dumps over 130k candidates.
        body = repr(
            (self.severity, self.title, self.explanation, self.recommended_action, self.search_text, self.details,
             self.vault_id, self.item_id, self.op_user_id, sorted(self.related_item_ids))
        )  # fmt: skip
        return hashlib.sha1(body.encode(), usedforsecurity=False).hexdigest()


def active_items(account: Account) -> QuerySet[Item]:
    """Items that count: not archived, not removed by a later listing, in a vault still present."""
    return Item.objects.filter(
        vault__account=account, vault__removed_at__isnull=True, removed_at__isnull=True, archived=False
    ).order_by()


def active_item_rows(account: Account) -> QuerySet[Item]:
    """`active_items` with `labels_text` annotated, ready for `.values(*ITEM_VALUES, ...)`."""
    return active_items(account).annotate(labels_text=JSONLabelsText("field_labels"))


def only_items(queryset: QuerySet[Any], items: frozenset[int] | None, field: str = "id") -> QuerySet[Any]:
    """An incremental run's scope: rows of the `items` only (None: every item), sent as one array
    parameter (vaults/findings/any_of.py). Past `incremental.SCOPE_LIMIT` items a run is full."""
    if items is None:
        return queryset
    return queryset.filter(AnyOf(F(field), sorted(items)))


def short(text: str, limit: int = TITLE_LIMIT) -> str:
    # Most titles hold no whitespace but single spaces: leave them as they are (~300k calls on the
    # first run at 100k items). isprintable() is False for every other whitespace character.
    if not (text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " "):
        text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quoted(name: str) -> str:
    """One name as explanations print it: in quotes, cut at 80 characters."""
    return f"“{short(name, 80)}”"


def quoted_list(names: Iterable[str], limit: int = NAMES_IN_TEXT) -> str:
    """'A', 'B' and 'C' — at most `limit` names, then "and N more"."""
    items = [quoted(n) for n in names]
    if len(items) > limit:
        items = [*items[:limit], f"{len(items) - limit} more"]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def item_search_text(row: dict[str, Any], *extra: str) -> str:
    """Lower-cased text a finding about one item is found by: title, vault, category (as printed
    and with spaces), field labels, plus anything the rule adds. Not its kind's words: every
    finding of a kind shares those, and the searches match them per kind (KIND_SEARCH_WORDS)."""
    category = row["category"] or ""
    text = " ".join(
        ((row["title"] or "")[:SEARCH_TITLE_LIMIT], row["vault__name"] or "", category, category.replace("_", " "),
         row["labels_text"] or "", *extra)
    )  # fmt: skip
    return " ".join(text.lower().split())


def item_candidate(kind: str, severity: str, row: dict[str, Any], **fields: Any) -> Candidate:
    """A finding about exactly one item, keyed by the item's row id (stable across syncs)."""
    extra = fields.pop("search_extra", ())
    details = {"item_op_id": row["op_id"], "vault_ids": [row["vault_id"]], **fields.pop("details", {})}
    return Candidate(
        kind=kind,
        severity=severity,
        key=f"item:{row['id']}",
        search_text=item_search_text(row, *extra),
        details=details,
        vault_id=row["vault_id"],
        item_id=row["id"],
        **fields,
    )


@dataclass(frozen=True)
class PolicyScope:
    policy: EffectivePolicy
    vault_ids: frozenset[int] | None  # None: every vault without an override
    excluded_vault_ids: frozenset[int] = frozenset()

    def q(self, vault_field: str = "vault_id") -> Q:
        if self.vault_ids is not None:
            return Q(**{f"{vault_field}__in": sorted(self.vault_ids)})
        if self.excluded_vault_ids:
            return ~Q(**{f"{vault_field}__in": sorted(self.excluded_vault_ids)})
        return Q()

    def covers(self, vault_id: int) -> bool:
        if self.vault_ids is not None:
            return vault_id in self.vault_ids
        return vault_id not in self.excluded_vault_ids


def policy_scopes(account: Account) -> list[PolicyScope]:
    """Vaults grouped by the policy they are judged by, so each rule runs one query per distinct
    policy (usually one: the global policy) rather than one per vault."""
    overrides = Policy.overrides_by_vault(list(account.vaults.values_list("pk", flat=True)))
    base = Policy.for_vault(None)
    by_policy: dict[EffectivePolicy, set[int]] = {}
    for vault_id, policy in overrides.items():
        by_policy.setdefault(policy, set()).add(vault_id)
    scopes = [PolicyScope(policy=base, vault_ids=None, excluded_vault_ids=frozenset(overrides))]
    scopes.extend(PolicyScope(policy=p, vault_ids=frozenset(ids)) for p, ids in by_policy.items())
    return scopes


def policy_of_vault(scopes: list[PolicyScope], vault_id: int) -> EffectivePolicy:
    for scope in scopes:
        if scope.covers(vault_id):
            return scope.policy
    return scopes[0].policy


def local_date(now: datetime.datetime) -> datetime.date:
    return timezone.localdate(now)
