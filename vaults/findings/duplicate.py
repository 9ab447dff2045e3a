"""duplicate (high): copies of one credential — one secret on two or more items of one service.

Rule (docs/findings-rules.md): a fingerprint (HMAC of a concealed field value) found on two or
more **distinct active items that stand for the same service** (vaults/findings/copies.py: same
URL host, or same title stem with no disagreeing host) is one finding, listing the items and
their vaults, never the value. Two concealed fields of the same item sharing a value do not
count. The same secret behind *different* services is a reused secret (reused_secret.py), never
a duplicate: archiving one of those would break a live service.

1. GROUP BY fingerprint over the secret fields of active items, keep MIN(item) < MAX(item): two
   distinct items, said so that PostgreSQL can hash-aggregate (COUNT(DISTINCT) sorts 110k rows,
   on disk with the default work_mem).
2. Fetch the members of those groups in one query (fingerprint IN the grouped subquery).
3. Split each group into services (copy_components); one candidate per component of two or more
   items, keyed by the fingerprint (plus the component's first item when the group has several
   services), related to the copies only.

Steps 1-2 serve the reused-secret and shared-environment rules too (`shared_groups`: one grouping
per run, not three). An incremental run passes `fingerprints`: only those groups are computed
(vaults/findings/incremental.py decides which can have changed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Max, Min, QuerySet

from vaults.findings.any_of import AnyOf
from vaults.findings.candidate import Candidate, item_search_text, quoted_list, short
from vaults.findings.copies import copy_components
from vaults.findings.jsonsql import JSONLabelsText
from vaults.findings.models import Finding
from vaults.models import Account, SecretField, Vault

PRODUCTION = Vault.Classification.PRODUCTION


@dataclass
class FingerprintGroup:
    fingerprint: str
    items: list[dict[str, Any]]  # one row per distinct item: id, op_id, title, category, vault...

    @property
    def vault_ids(self) -> list[int]:
        return sorted({row["vault_id"] for row in self.items})

    @property
    def vault_names(self) -> list[str]:
        return sorted({row["vault__name"] for row in self.items})


def active_secret_fields(account: Account) -> QuerySet[SecretField]:
    # Join filters rather than `item__in=<subquery>`: PostgreSQL plans the GROUP BY as one hash
    # join (0.95 s -> see bench) instead of a semi-join per fingerprint group.
    return (
        SecretField.objects.filter(
            item__vault__account=account,
            item__vault__removed_at__isnull=True,
            item__removed_at__isnull=True,
            item__archived=False,
            fingerprint__isnull=False,
        )
        .exclude(fingerprint="")
        .order_by()
    )


def fingerprint_groups(
    account: Account,
    *,
    having: Callable[[QuerySet[Any]], QuerySet[Any]],
    fingerprints: frozenset[str] | None = None,
) -> list[FingerprintGroup]:
    """Members of every fingerprint group that `having` keeps, grouped in the database; only the
    groups of `fingerprints` when given."""
    fields = active_secret_fields(account)
    if fingerprints is not None:
        fields = fields.filter(AnyOf(F("fingerprint"), sorted(fingerprints)))
    grouped = fields.values("fingerprint").annotate(
        first_item=Min("item"),
        last_item=Max("item"),
    )
    wanted = having(grouped).values("fingerprint")
    rows = (
        fields
        .filter(fingerprint__in=wanted)
        .annotate(labels_text=JSONLabelsText("item__field_labels"))
        .values(
            "fingerprint", "item_id", "item__op_id", "item__title", "item__category", "labels_text",
            "item__vault_id", "item__vault__name", "item__vault__classification", "label", "item__urls",
            "item__username_fingerprint",
        )
        .order_by("fingerprint", "item__vault__name", "item__title", "item_id")
    )  # fmt: skip
    groups: dict[str, FingerprintGroup] = {}
    seen: set[tuple[str, int]] = set()
    for row in rows:
        fingerprint = str(row["fingerprint"])
        group = groups.setdefault(fingerprint, FingerprintGroup(fingerprint=fingerprint, items=[]))
        if (fingerprint, row["item_id"]) in seen:
            continue  # the same value twice in one item is not a duplicate
        seen.add((fingerprint, row["item_id"]))
        group.items.append(
            {
                "id": row["item_id"], "op_id": row["item__op_id"], "title": row["item__title"],
                "category": row["item__category"], "labels_text": row["labels_text"],
                "vault_id": row["item__vault_id"], "vault__name": row["item__vault__name"],
                "vault__classification": row["item__vault__classification"], "field_label": row["label"],
                "urls": row["item__urls"], "username": row["item__username_fingerprint"],
            }
        )  # fmt: skip
    return list(groups.values())


def group_search_text(group: FingerprintGroup) -> str:
    return " ".join(item_search_text(row) for row in group.items)


def group_details(group: FingerprintGroup) -> dict[str, Any]:
    return {
        "item_count": len(group.items),
        "vault_ids": group.vault_ids,
        "vaults": group.vault_names,
        "items": [
            {"id": r["id"], "op_id": r["op_id"], "title": short(str(r["title"]), 200), "vault": r["vault__name"],
             "vault_classification": r["vault__classification"]}
            for r in group.items
        ],
    }  # fmt: skip


def shared_groups(
    account: Account, *, fingerprints: frozenset[str] | None = None, memo: dict[str, Any] | None = None
) -> list[FingerprintGroup]:
    """Groups of two or more distinct items (the three group rules' common query), computed once
    per run when the engine passes its `memo`."""
    if memo is not None and "fingerprint_groups" in memo:
        cached: list[FingerprintGroup] = memo["fingerprint_groups"]
        return cached
    groups = fingerprint_groups(
        account, having=lambda qs: qs.filter(first_item__lt=F("last_item")), fingerprints=fingerprints
    )
    if memo is not None:
        memo["fingerprint_groups"] = groups
    return groups


def services_of(group: FingerprintGroup, memo: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    """copy_components of a group, once per run for the duplicate and reused-secret rules."""
    if memo is None:
        return copy_components(group.items)
    split: dict[str, list[list[dict[str, Any]]]] = memo.setdefault("services", {})
    if group.fingerprint not in split:
        split[group.fingerprint] = copy_components(group.items)
    return split[group.fingerprint]


def fingerprints_of_items(item_ids: frozenset[int]) -> set[str]:
    """Fingerprints the items hold now, whatever the items' state (the group rules' scope)."""
    found: set[str] = set()
    ids = sorted(item_ids)
    for start in range(0, len(ids), 30_000):
        found.update(
            str(fp)
            for fp in SecretField.objects.filter(AnyOf(F("item_id"), ids[start : start + 30_000]), fingerprint__isnull=False)
            .exclude(fingerprint="")
            .values_list("fingerprint", flat=True)
            .distinct()
        )
    return found


def find(
    *, account: Account, fingerprints: frozenset[str] | None = None, memo: dict[str, Any] | None = None, **_: Any
) -> list[Candidate]:
    candidates = []
    for whole in shared_groups(account, fingerprints=fingerprints, memo=memo):
        components = services_of(whole, memo)
        for copies in components:
            if len(copies) < 2:
                continue
            group = FingerprintGroup(fingerprint=whole.fingerprint, items=copies)
            key = f"fp:{whole.fingerprint}" if len(components) == 1 else f"fp:{whole.fingerprint}:{copies[0]['id']}"
            candidates.append(_candidate(group, key=key, other_services=len(components) - 1))
    return candidates


def _candidate(group: FingerprintGroup, *, key: str, other_services: int) -> Candidate:
    n_items, n_vaults = len(group.items), len(group.vault_ids)
    titles = quoted_list(f"{r['title']} ({r['vault__name']})" for r in group.items)
    where = "one vault" if n_vaults == 1 else f"{n_vaults} vaults"
    also = (
        f" The same value also protects {other_services} other service{'' if other_services == 1 else 's'}: see the reused-secret finding."
        if other_services
        else ""
    )
    return Candidate(
        kind=Finding.Kind.DUPLICATE,
        severity=Finding.Severity.HIGH,
        key=key,
        title=short(f"Same credential copied in {n_items} items: {group.items[0]['title']}"),
        explanation=(
            f"{n_items} items in {where} are copies of one credential (same secret, same service): {titles}. "
            f"Rotating it in one place leaves the other copies stale.{also}"
        ),
        recommended_action=(
            "Keep one item as the source of truth and archive the other copies (propose a consolidation)."
        ),
        search_text=group_search_text(group),
        details={**group_details(group), "other_services": other_services},
        vault_id=group.vault_ids[0] if n_vaults == 1 else None,
        related_item_ids=tuple(r["id"] for r in group.items),
    )
