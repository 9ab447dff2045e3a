"""Change a share of a fake organisation's items, as its people would between two syncs, so the
next sync has real work: `python -m bench.churn ACCOUNT.json [PERCENT]` (default 1%).

Half of the picked items get a new title, the other half a new secret (the old one kept in the
item's history, as 1Password keeps it); each write bumps the item's version and its vault's
content version through the fake `op`'s own helpers, so the sync re-reads exactly those vaults
and items and the findings run recomputes from them. bench_load's sync loop runs it before
each sync with BENCH_LOAD_CHURN=PERCENT; without it every sync after the first finds nothing
changed.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

from vaults.fake_op import account as fake_account


def churn(path: Path, percent: float) -> tuple[int, int]:
    """(renamed, new secrets)."""
    renamed = rotated = 0
    with fake_account.locked_update(path) as data:
        live = [item for item in data["items"] if item.get("state") != "ARCHIVED"]
        count = max(1, round(len(live) * percent / 100))
        for n, item in enumerate(secrets.SystemRandom().sample(live, min(count, len(live)))):
            if n % 2 and fake_account.secret_field(item) is not None:
                fake_account.set_secret(data, item, secrets.token_urlsafe(24))
                rotated += 1
            else:
                item["title"] = f"{item['title'].split(' · edit ')[0]} · edit {item.get('version', 0) + 1}"
                renamed += 1
            fake_account.touch_item(data, item)
        # set_secret lists each new value for the leak tests; the bench has no use for a growing list.
        data.pop("canaries", None)
    return renamed, rotated


if __name__ == "__main__":
    renamed, rotated = churn(Path(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 1.0)
    print(f"churn: {renamed} renamed, {rotated} new secrets")
