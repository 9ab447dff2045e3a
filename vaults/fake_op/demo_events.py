"""Events API data for the demo organisation (compact form; see vaults/fake_op/account.py).

Regular item usage happens in office hours (07:00-20:00 UTC) so the planted break-glass uses
(01:00-04:00 UTC, in a "Break Glass" vault) are the only night-time accesses.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any, Protocol

from vaults.fake_op.account import format_ts, parse_ts
from vaults.fake_op.demo_leavers import leaver_usages

Row = dict[str, Any]


class BuiltOrganisation(Protocol):
    """What the events are drawn from: the organisation demo.py has built so far. A protocol, so
    this module needs nothing from demo.py, which imports it (no circle)."""

    rng: random.Random
    now: datetime
    service_account: Row
    humans: list[Row]
    vaults: list[Row]
    items: list[Row]
    inactive_users: set[str]
    orphans_by_age: set[str]
    no_recent_use: set[tuple[str, str]]  # (user id, vault id) left unused

    def user_id(self) -> str: ...

    def access_counts(self) -> dict[str, set[str]]: ...


# All usage lies within this many days of `now`: inside the 180-day orphan window.
USAGE_WINDOW_DAYS = 170
# Direct grants are used within this many days: inside the 90-day unused-access window.
DIRECT_GRANT_USE_DAYS = 80
USAGE_ACTIONS = ["reveal", "secure-copy", "fill", "enter-item-edit-mode", "select-sso-provider"]
CLIENTS = ["browser-chrome-mac", "desktop-windows", "cli-linux", "mobile-ios"]


def _uuid(builder: BuiltOrganisation) -> str:
    return builder.user_id()


def _ip(builder: BuiltOrganisation) -> str:
    return f"203.0.113.{builder.rng.randint(1, 254)}"


def _day_time(builder: BuiltOrganisation, earliest: datetime, latest: datetime, hours: tuple[int, int]) -> datetime:
    """A random moment strictly between earliest and latest whose UTC hour lies in [hours)."""
    first_day = (earliest + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    days = (latest - first_day).days  # whole days that start after earliest and end before latest
    if days < 1:  # too short a span for a whole day: its middle, hour unconstrained
        return earliest + (latest - earliest) / 2 if latest > earliest else latest
    day = first_day + timedelta(days=builder.rng.randrange(days))
    return day.replace(
        hour=builder.rng.randrange(*hours), minute=builder.rng.randrange(60), second=builder.rng.randrange(60)
    )


def _usage(builder: BuiltOrganisation, item: Row, user_id: str, when: datetime) -> Row:
    return {
        "uuid": _uuid(builder),
        "timestamp": format_ts(when),
        "used_version": builder.rng.randint(1, item["version"]),
        "vault_uuid": item["vault_id"],
        "item_uuid": item["id"],
        "action": builder.rng.choice(USAGE_ACTIONS),
        "user_uuid": user_id,
        "client": builder.rng.choice(CLIENTS),
        "ip": _ip(builder),
    }


def _usages(builder: BuiltOrganisation) -> tuple[list[Row], list[str]]:
    rng, now = builder.rng, builder.now
    access = builder.access_counts()
    active_humans = [u["id"] for u in builder.humans if u["id"] not in builder.inactive_users]
    can_use: dict[str, list[str]] = {}
    for user_id in active_humans:
        for vault_id in access[user_id]:
            if (user_id, vault_id) not in builder.no_recent_use:
                can_use.setdefault(vault_id, []).append(user_id)
    usable = [i for i in builder.items if i["state"] == "ACTIVE" and i["id"] not in builder.orphans_by_age]
    by_vault: dict[str, list[Row]] = {}
    for item in usable:
        by_vault.setdefault(item["vault_id"], []).append(item)
    window_start = now - timedelta(days=USAGE_WINDOW_DAYS)
    events = []
    for item in usable:
        earliest = max(parse_ts(item["created_at"]), window_start)
        users = can_use.get(item["vault_id"]) or [builder.service_account["id"]]
        for _ in range(rng.choice([1, 1, 2, 3])):
            events.append(_usage(builder, item, rng.choice(users), _day_time(builder, earliest, now, (7, 20))))
    # Every direct grant of an active person is used within the unused-access window.
    recent = now - timedelta(days=DIRECT_GRANT_USE_DAYS)
    for vault in builder.vaults:
        for grant in vault["user_grants"]:
            user_id = grant["user_id"]
            if user_id not in active_humans or (user_id, vault["id"]) in builder.no_recent_use:
                continue
            if not by_vault.get(vault["id"]):
                raise ValueError(f"vault {vault['name']} has no usable item to show its grants in use")
            item = rng.choice(by_vault[vault["id"]])
            events.append(
                _usage(
                    builder, item, user_id, _day_time(builder, max(recent, parse_ts(item["created_at"])), now, (7, 20))
                )
            )
    # The planted unused grants were last used long ago.
    long_ago = now - timedelta(days=100)
    for user_id, vault_id in sorted(builder.no_recent_use):
        old_items = [i for i in by_vault.get(vault_id, []) if parse_ts(i["created_at"]) < long_ago - timedelta(days=3)]
        if old_items:
            item = rng.choice(old_items)
            old = max(parse_ts(item["created_at"]), now - timedelta(days=USAGE_WINDOW_DAYS))
            events.append(_usage(builder, item, user_id, _day_time(builder, old, long_ago, (7, 20))))
    break_glass = []
    for vault in builder.vaults:
        settled = [i for i in by_vault.get(vault["id"], []) if parse_ts(i["created_at"]) < now - timedelta(days=30)]
        if "break glass" in vault["name"].lower() and settled and can_use.get(vault["id"]):
            for _ in range(4):
                item = rng.choice(settled)
                when = _day_time(builder, max(parse_ts(item["created_at"]), now - timedelta(days=150)), now, (1, 4))
                event = _usage(builder, item, rng.choice(can_use[vault["id"]]), when)
                event["action"] = "reveal"
                events.append(event)
                break_glass.append(event["uuid"])
    return events, break_glass


def _signins(builder: BuiltOrganisation) -> list[Row]:
    rng, now = builder.rng, builder.now
    failures = [
        ("credentials_failed", "password_secret_bad", None),
        ("mfa_failed", "mfa_missing", None),
        ("firewall_failed", "continent_blocked", {"value": "Europe"}),
    ]
    events = []
    for user in builder.humans:
        for _ in range(rng.randint(3, 8)):
            when = _day_time(builder, now - timedelta(days=USAGE_WINDOW_DAYS), now, (6, 21))
            category, kind, details = ("success", "credentials_ok", None)
            if rng.random() < 0.08:
                category, kind, details = rng.choice(failures)
            events.append(
                {
                    "uuid": _uuid(builder),
                    "session_uuid": _uuid(builder),
                    "timestamp": format_ts(when),
                    "category": category,
                    "type": kind,
                    "country": rng.choice(["DE", "NL", "GB", "US"]),
                    "details": details,
                    "user_uuid": user["id"],
                    "client": rng.choice(CLIENTS),
                    "ip": _ip(builder),
                }
            )
    return events


def _audit(builder: BuiltOrganisation) -> list[Row]:
    rng, now = builder.rng, builder.now
    actor = builder.humans[2]["id"]
    window_start = now - timedelta(days=USAGE_WINDOW_DAYS)
    events = []
    for vault in builder.vaults:
        for grant in vault["user_grants"][1:]:
            events.append(
                {
                    "uuid": _uuid(builder),
                    "timestamp": format_ts(_day_time(builder, window_start, now, (8, 18))),
                    "actor_uuid": actor,
                    "action": "grant",
                    "object_type": "vault",
                    "object_uuid": vault["id"],
                    "aux_uuid": grant["user_id"],
                    "aux_info": ",".join(grant["permissions"]),
                    "ip": _ip(builder),
                }
            )
    for user_id in sorted(builder.inactive_users):
        events.append(
            {
                "uuid": _uuid(builder),
                "timestamp": format_ts(_day_time(builder, window_start, now, (8, 18))),
                "actor_uuid": actor,
                "action": "suspend",
                "object_type": "user",
                "object_uuid": user_id,
                "aux_uuid": "",
                "aux_info": "",
                "ip": _ip(builder),
            }
        )
    rng.shuffle(events)
    return events


# Older sign-in events name the country at the top level, often in full.
COUNTRY_NAMES = {
    "DE": "Germany",
    "NL": "Netherlands",
    "GB": "United Kingdom of Great Britain and Northern Ireland",
    "US": "United States of America",
}
OLDER_SHAPE_EVERY = 5  # one sign-in event in five is served in the older shape


def _older_shape(signins: list[Row]) -> None:
    """Every OLDER_SHAPE_EVERY-th sign-in (in time order) in the older shape, with the country's
    full name; chosen by position, not by the random generator, so nothing else moves."""
    for index, event in enumerate(signins):
        if index % OLDER_SHAPE_EVERY == OLDER_SHAPE_EVERY - 1:
            event["older_shape"] = True
            event["country"] = COUNTRY_NAMES.get(event["country"], event["country"])


def build_events(builder: BuiltOrganisation) -> tuple[dict[str, list[Row]], list[str]]:
    usages, break_glass = _usages(builder)
    usages += leaver_usages(builder)
    feeds = {"itemusages": usages, "signinattempts": _signins(builder), "auditevents": _audit(builder)}
    for feed in feeds.values():
        feed.sort(key=lambda event: event["timestamp"])
    _older_shape(feeds["signinattempts"])
    return feeds, break_glass
