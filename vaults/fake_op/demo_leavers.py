"""Item use by the demo's suspended leavers before they left, so their offboarding case has a
rotation plan worth reading (vaults/offboarding/). Drawn from its own random generator: the rest
of the demo (every planted fact, every other event) stays exactly as it was.

Each leaver revealed, copied, filled or exported a few items of vaults they can reach, on working
days 20 to 60 days ago, from one address: nothing here reads as an access anomaly.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from vaults.fake_op.account import format_ts

Row = dict[str, Any]
LEAVER_ACTIONS = ["reveal", "secure-copy", "fill", "export"]
USES_PER_LEAVER = 6


def leaver_usages(builder: Any) -> list[Row]:
    rng = random.Random(f"openclaw-demo-leavers-{len(builder.items)}-{len(builder.humans)}")
    access = builder.access_counts()
    # Planted-unused items stay unused (orphaned is "nobody used it"), and break-glass vaults stay
    # out: a use there is an emergency event of its own.
    unused = set(builder.orphans_by_age) | set(getattr(builder, "planted", {}).get("orphaned", []))
    emergency = {v["id"] for v in builder.vaults if "break glass" in v["name"].lower() or "emergency" in v["name"].lower()}
    active: dict[str, list[Row]] = {}
    for item in builder.items:
        if item["state"] == "ACTIVE" and item["id"] not in unused and item["vault_id"] not in emergency:
            active.setdefault(item["vault_id"], []).append(item)
    events: list[Row] = []
    for n, user_id in enumerate(sorted(builder.inactive_users)):
        items = [i for vault_id in sorted(access[user_id]) for i in active.get(vault_id, [])]
        if not items:
            continue
        for item in rng.sample(items, min(USES_PER_LEAVER, len(items))):
            day = builder.now - timedelta(days=rng.randint(20, 60))
            when = day.replace(hour=rng.randint(9, 16), minute=rng.randrange(60), second=rng.randrange(60), microsecond=0)
            events.append({
                "uuid": "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", k=26)),
                "timestamp": format_ts(when),
                "used_version": rng.randint(1, item["version"]),
                "vault_uuid": item["vault_id"],
                "item_uuid": item["id"],
                "action": rng.choice(LEAVER_ACTIONS),
                "user_uuid": user_id,
                "client": "browser-chrome-mac",
                "ip": f"198.51.100.{10 + n}",
            })
    return events
