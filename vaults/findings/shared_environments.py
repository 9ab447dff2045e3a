"""shared_across_environments (high): one secret used in production and outside it.

Rule (docs/findings-rules.md): a fingerprint on active items in at least one vault classified
production and at least one vault not classified production. One finding per fingerprint.
(Such a group is also a duplicate finding.)

1. The duplicate rule's groups of two or more distinct items (duplicate.shared_groups): an item is
   in one vault, so a group with an item in production and one outside has two distinct items.
2. Keep groups with at least one member in production and one outside.
"""

from __future__ import annotations

from typing import Any

from vaults.findings.candidate import Candidate, quoted_list, short
from vaults.findings.duplicate import PRODUCTION, group_details, group_search_text, shared_groups
from vaults.findings.models import Finding
from vaults.models import Account


def _vaults(names: list[str]) -> str:
    return "vault" if len(names) == 1 else "vaults"


def find(
    *, account: Account, fingerprints: frozenset[str] | None = None, memo: dict[str, Any] | None = None, **_: Any
) -> list[Candidate]:
    candidates = []
    for group in shared_groups(account, fingerprints=fingerprints, memo=memo):
        prod = sorted({r["vault__name"] for r in group.items if r["vault__classification"] == PRODUCTION})
        other = sorted({r["vault__name"] for r in group.items if r["vault__classification"] != PRODUCTION})
        if not prod or not other:
            continue
        candidates.append(
            Candidate(
                kind=Finding.Kind.SHARED_ACROSS_ENVIRONMENTS,
                severity=Finding.Severity.HIGH,
                key=f"fp:{group.fingerprint}",
                title=short(f"Production secret reused outside production: {group.items[0]['title']}"),
                explanation=(
                    f"The same secret value is stored in production {_vaults(prod)} {quoted_list(prod)} and in "
                    f"non-production {_vaults(other)} {quoted_list(other)}. Anyone with access to the non-production "
                    "copy can reach production."
                ),
                recommended_action="Issue a separate secret for each environment and rotate the production one.",
                search_text=group_search_text(group),
                details={**group_details(group), "production_vaults": prod, "other_vaults": other},
                vault_id=None,
                related_item_ids=tuple(r["id"] for r in group.items),
            )
        )
    return candidates
