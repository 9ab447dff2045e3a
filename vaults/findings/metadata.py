"""missing_metadata (low): an item nobody can tell the purpose or owner of.

Rule (docs/findings-rules.md): an active item with any of: no URL (LOGIN items only); no tags;
no description (no notes). One finding per item, listing what is missing.

One query: JSON list lengths of tags and urls computed in SQL, the three tests OR-ed.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from vaults.findings.candidate import (
    ITEM_VALUES,
    Candidate,
    active_item_rows,
    item_candidate,
    only_items,
    quoted,
    short,
)
from vaults.findings.jsonsql import JSONListLength
from vaults.findings.models import Finding
from vaults.models import Account


def find(*, account: Account, items: frozenset[int] | None = None, **_: Any) -> list[Candidate]:
    rows = (
        only_items(active_item_rows(account), items)
        .annotate(n_tags=JSONListLength("tags"), n_urls=JSONListLength("urls"))
        .filter(Q(n_tags=0) | Q(has_notes=False) | Q(category="LOGIN", n_urls=0))
        .values(*ITEM_VALUES, "n_tags", "n_urls", "has_notes")
    )
    candidates = []
    for row in rows:
        missing = []
        if row["category"] == "LOGIN" and row["n_urls"] == 0:
            missing.append("URL")
        if row["n_tags"] == 0:
            missing.append("tags")
        if not row["has_notes"]:
            missing.append("description")
        candidates.append(
            item_candidate(
                Finding.Kind.MISSING_METADATA,
                Finding.Severity.LOW,
                row,
                title=short(f"Missing {', '.join(missing)}: {row['title']}"),
                explanation=f"{quoted(row['title'])} has no {' and no '.join(missing)}, so its purpose and owner are guesswork.",
                recommended_action="Add "
                + ", ".join(m if m != "description" else "a note describing it" for m in missing)
                + ".",
                details={"missing": missing},
                search_extra=tuple(missing),
            )
        )
    return candidates
