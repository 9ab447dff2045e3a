"""reused_secret (high): one secret behind two or more different services.

Rule (docs/findings-rules.md): a fingerprint on active items that copy_components splits into two
or more services (different URL hosts, or different title stems without a shared host) is one
finding per fingerprint, naming every service and item. Each of those items is a live
credential of its own service: the fix is to give every service its own secret (rotate all but
one at the source), never to archive one of them, which would lose the only record of a
credential still in use.

1. The duplicate rule's grouped query (two distinct items per fingerprint; duplicate.shared_groups).
2. copy_components per group; keep groups with two or more components.
"""

from __future__ import annotations

from typing import Any

from vaults.findings.candidate import Candidate, quoted_list, short
from vaults.findings.copies import service_label
from vaults.findings.duplicate import group_details, group_search_text, services_of, shared_groups
from vaults.findings.models import Finding
from vaults.models import Account


def find(
    *, account: Account, fingerprints: frozenset[str] | None = None, memo: dict[str, Any] | None = None, **_: Any
) -> list[Candidate]:
    candidates = []
    for group in shared_groups(account, fingerprints=fingerprints, memo=memo):
        services = services_of(group, memo)
        if len(services) < 2:
            continue
        labels = [service_label(s) for s in services]
        titles = quoted_list(f"{r['title']} ({r['vault__name']})" for r in group.items)
        candidates.append(
            Candidate(
                kind=Finding.Kind.REUSED_SECRET,
                severity=Finding.Severity.HIGH,
                key=f"fp:{group.fingerprint}",
                title=short(f"One secret reused by {len(services)} services: {group.items[0]['title']}"),
                explanation=(
                    f"{len(services)} different services ({quoted_list(labels)}) use the same secret value: "
                    f"{titles}. These are not copies: each item is a live credential, so archiving one would "
                    "lose a credential still in use, and a leak of one service's secret opens the others."
                ),
                recommended_action=(
                    "Rotate the secret at the source of every service but one, so each has its own, and update "
                    "the items. Do not archive any of them."
                ),
                search_text=group_search_text(group),
                details={
                    **group_details(group),
                    "services": [
                        {"service": label, "item_ids": [r["id"] for r in members]}
                        for label, members in zip(labels, services, strict=True)
                    ],
                },
                vault_id=group.vault_ids[0] if len(group.vault_ids) == 1 else None,
                related_item_ids=tuple(r["id"] for r in group.items),
            )
        )
    return candidates
