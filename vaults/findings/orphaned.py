"""orphaned (low): an item nobody uses or maintains any more.

Rule (docs/findings-rules.md): an active item with no item-usage event in the last `orphan_days`
(default 180) AND not edited (`updated_at`) in the last `orphan_days`, OR tagged `deprecated` or
`decommissioned`. Items created less than `orphan_days` ago are not orphaned by age. Missing op
timestamps fall back to when we first saw the item, so an item is never orphaned for lack of data.

Usage coverage (vaults/findings/usage_coverage.py) decides what the finding may claim. Only when
item usage was measured for the whole `orphan_days` window does it say "nobody has used it";
otherwise (no Events API, or usage kept for less than the window) an unedited item is still
reported, but its text says usage is unknown and why, and `details.usage_known` is false. Any
usage event we do hold inside the window keeps an item from being orphaned either way.

One query per policy scope: NOT EXISTS(item usage since the cut-off) with the edit and creation
cut-offs, OR the tag test, in one WHERE clause.

An incremental run passes `items`; `drifting_items` names the items the clock alone can move
between two runs: an edit, a creation or a use that passed the cut-off in between. Whether usage
is known is part of the run's signature (vaults/findings/incremental.py): when it flips, every
orphaned finding is recomputed.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Coalesce

from vaults.findings.candidate import (
    ITEM_VALUES,
    Candidate,
    PolicyScope,
    active_item_rows,
    active_items,
    item_candidate,
    only_items,
    quoted,
    quoted_list,
    short,
)
from vaults.findings.jsonsql import JSONListHasAny
from vaults.findings.models import Finding
from vaults.findings.usage_coverage import usage_coverage
from vaults.models import Account, ItemUsage

RETIRED_TAGS = ("deprecated", "decommissioned")


def _edited_at() -> Coalesce:
    return Coalesce("op_updated_at", "op_created_at", "first_seen")


def _created_at() -> Coalesce:
    return Coalesce("op_created_at", "first_seen")


def drifting_items(
    *, account: Account, since: datetime.datetime, now: datetime.datetime, scopes: list[PolicyScope]
) -> set[int]:
    """Items whose edit, creation or a use fell behind the cut-off between `since` and `now`."""
    drifting: set[int] = set()
    for scope in scopes:
        days = datetime.timedelta(days=scope.policy.orphan_days)
        passed = {"gte": since - days, "lt": now - days}
        used_then = ItemUsage.objects.filter(account=account, timestamp__gte=passed["gte"], timestamp__lt=passed["lt"])
        rows = (
            active_items(account)
            .filter(scope.q())
            .annotate(edited_at=_edited_at(), created_at=_created_at())
            .filter(
                Q(edited_at__gte=passed["gte"], edited_at__lt=passed["lt"])
                | Q(created_at__gte=passed["gte"], created_at__lt=passed["lt"])
                | Q(op_id__in=used_then.values("item_op_id"))
            )
            .values_list("id", flat=True)
        )
        drifting.update(rows)
    return drifting


def find(
    *,
    account: Account,
    now: datetime.datetime,
    scopes: list[PolicyScope],
    items: frozenset[int] | None = None,
    **_: Any,
) -> list[Candidate]:
    candidates = []
    coverage = usage_coverage(account)
    for scope in scopes:
        days = scope.policy.orphan_days
        cutoff = now - datetime.timedelta(days=days)
        usage_known = coverage.covers(cutoff)
        used_recently = ItemUsage.objects.filter(account=account, item_op_id=OuterRef("op_id"), timestamp__gte=cutoff)
        rows = (
            only_items(active_item_rows(account), items)
            .filter(scope.q())
            .annotate(
                edited_at=_edited_at(),
                created_at=_created_at(),
                retired=JSONListHasAny("tags", RETIRED_TAGS),
                used=Exists(used_recently),
            )
            .filter(Q(retired=True) | Q(used=False, edited_at__lt=cutoff, created_at__lt=cutoff))
            .values(*ITEM_VALUES, "retired", "edited_at", "tags")
        )
        for row in rows:
            edited = row["edited_at"].date().isoformat()
            if row["retired"]:
                tags = [t for t in row["tags"] or [] if isinstance(t, str) and t.strip().lower() in RETIRED_TAGS]
                why = f"it is tagged {quoted_list(tags)}"
            elif usage_known:
                why = f"nobody has used it in {days} days and it was last edited on {edited}"
            else:
                why = f"it was last edited on {edited}, more than {days} days ago"
            if not usage_known:
                why += f". Whether anyone still uses it is unknown: {coverage.summary}"
            candidates.append(
                item_candidate(
                    Finding.Kind.ORPHANED,
                    Finding.Severity.LOW,
                    row,
                    title=short(f"Orphaned: {row['title']}"),
                    explanation=f"{quoted(row['title'])} looks abandoned: {why.rstrip('.')}.",
                    recommended_action="Confirm with the vault owner, then archive it (propose an archive).",
                    details={
                        "retired_tag": bool(row["retired"]),
                        "edited_at": edited,
                        "usage_known": usage_known,
                        "usage_since": coverage.since.isoformat() if coverage.since else None,
                    },
                )
            )
    return candidates
