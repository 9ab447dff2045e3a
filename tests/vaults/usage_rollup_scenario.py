"""The usage rollups of migrations 0012 and 0013 against the raw events, one write at a time.

Shared by tests/vaults/test_usage_rollups.py (PostgreSQL, in the suite's database) and, run as
`python -m tests.vaults.usage_rollup_scenario`, by the same test on SQLite (the demo's database) in
a process of its own; there it prints one JSON line with the differences found after each step.

The truth is computed in Python from the stored raw events, never by the triggers under test."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

KEYS = {
    "person_day": ("day", "user_op_id", "action"),
    "person_month": ("month", "user_op_id", "action"),
    "vault_day": ("day", "vault_op_id", "action"),
    "item_month": ("month", "item_op_id", "action"),
    "account_day": ("day", "action"),  # migration 0013
}


def _models() -> dict[str, Any]:
    from vaults.models import (
        ItemUsageAccountDay,
        ItemUsageItemMonth,
        ItemUsagePersonDay,
        ItemUsagePersonMonth,
        ItemUsageVaultDay,
    )

    return {"person_day": ItemUsagePersonDay, "person_month": ItemUsagePersonMonth, "vault_day": ItemUsageVaultDay,
            "item_month": ItemUsageItemMonth, "account_day": ItemUsageAccountDay}  # fmt: skip


def _key(account_id: int, day: date, row: Mapping[str, Any], names: tuple[str, ...]) -> tuple[Any, ...]:
    values = {"day": day, "month": day.replace(day=1), **row}
    return (account_id, *(values[n] for n in names))


def from_raw() -> dict[str, Counter[tuple[Any, ...]]]:
    """Each rollup as the raw events say it should be (the UTC day of each timestamp)."""
    from vaults.models import ItemUsage

    out: dict[str, Counter[tuple[Any, ...]]] = {name: Counter() for name in KEYS}
    for e in ItemUsage.objects.values("account_id", "timestamp", "user_op_id", "vault_op_id", "item_op_id", "action"):
        day = e["timestamp"].astimezone(UTC).date()
        for name, names in KEYS.items():
            out[name][_key(e["account_id"], day, e, names)] += 1
    return out


def from_daily() -> dict[str, Counter[tuple[Any, ...]]]:
    """Each rollup summed from the daily counts (which hold every day, also past retention)."""
    from vaults.models import ItemUsageDaily

    out: dict[str, Counter[tuple[Any, ...]]] = {name: Counter() for name in KEYS}
    for d in ItemUsageDaily.objects.values("account_id", "day", "user_op_id", "vault_op_id", "item_op_id", "action", "count"):
        for name, names in KEYS.items():
            out[name][_key(d["account_id"], d["day"], d, names)] += d["count"]
    return out


def stored() -> dict[str, Counter[tuple[Any, ...]]]:
    out: dict[str, Counter[tuple[Any, ...]]] = {}
    for name, model in _models().items():
        fields = ("account_id", *KEYS[name], "count")
        rows = model.objects.values_list(*fields)
        out[name] = Counter({tuple(r[:-1]): r[-1] for r in rows})
        assert all(r[-1] > 0 for r in rows), f"{name} keeps a row at zero"
    return out


def differences(expected: dict[str, Counter[tuple[Any, ...]]]) -> list[str]:
    actual = stored()
    problems = []
    for name in KEYS:
        want, have = +expected[name], actual[name]
        for key in sorted(set(want) | set(have), key=str):
            if want[key] != have[key]:
                problems.append(f"{name} {key}: stored {have[key]}, expected {want[key]}")
    return problems


PLUS_5 = timezone(timedelta(hours=5))
_serial = iter(range(1, 10_000_000))


def _use(account: Any, user: str, item: Any, when: datetime, action: str = "reveal") -> Any:
    from vaults.models import ItemUsage

    return ItemUsage(account=account, uuid=f"R{next(_serial):09d}", timestamp=when, user_op_id=user, user_email="",
                     user_name="", item_op_id=item.op_id, vault_op_id=item.vault.op_id, action=action)  # fmt: skip


def run() -> dict[str, Any]:
    """Write events every way the product does and report, after each step, what differs.

    Month and day edges on purpose: 31 January 23:59:59.999999 UTC and 1 February 00:00 UTC, and
    1 February 03:00 at +05:00 (still 31 January in UTC); a second account on the same day."""
    from tests.vaults.factories import make_account, make_item, make_vault
    from vaults.models import ItemUsage
    from vaults.usage_retention import summarise_old_usage

    report: dict[str, Any] = {}
    acme, other = make_account(name="Rollup Acme"), make_account(name="Rollup Other")
    prod, staging, elsewhere = make_vault(account=acme, name="Prod"), make_vault(account=acme, name="Staging"), make_vault(account=other)
    key, db, test_key = make_item(vault=prod, title="Key"), make_item(vault=prod, title="DB"), make_item(vault=staging, title="Test")
    far = make_item(vault=elsewhere, title="Elsewhere")
    jan31_last = datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=UTC)
    feb1 = datetime(2026, 2, 1, tzinfo=UTC)
    bulk = [
        _use(acme, "alice", key, jan31_last), _use(acme, "alice", key, feb1), _use(acme, "alice", key, feb1, "fill"),
        _use(acme, "bob", key, datetime(2026, 2, 1, 3, tzinfo=PLUS_5)), _use(acme, "bob", db, datetime(2026, 1, 5, 12, tzinfo=UTC)),
        _use(acme, "bob", test_key, datetime(2025, 12, 31, 23, tzinfo=UTC), "secure-copy"),
        _use(other, "alice", far, jan31_last),  # the same person id and day in another account
    ] + [_use(acme, "carol", db, datetime(2026, 3, 10, 9, minute, tzinfo=UTC)) for minute in range(5)]  # fmt: skip
    ItemUsage.objects.bulk_create(bulk)
    report["bulk"] = differences(from_raw())

    _use(acme, "dave", test_key, datetime(2026, 3, 31, 23, 30, tzinfo=UTC), "export").save()
    report["single"] = differences(from_raw())

    duplicate = _use(acme, "alice", key, feb1)
    duplicate.uuid = bulk[1].uuid  # the same event again: ignored, not counted
    ItemUsage.objects.bulk_create([duplicate, _use(acme, "alice", key, feb1)], ignore_conflicts=True)
    report["ignored_duplicate"] = differences(from_raw())

    moved = ItemUsage.objects.get(uuid=bulk[4].uuid)
    ItemUsage.objects.filter(pk=moved.pk).update(timestamp=datetime(2026, 4, 2, tzinfo=UTC), action="fill")
    report["moved"] = differences(from_raw())

    before = from_raw()
    with _retention(days=30):
        deleted = summarise_old_usage(account=acme, now=datetime(2026, 3, 15, tzinfo=UTC))
    report["retention_deleted"] = deleted
    report["retention"] = differences(before)  # the counts of deleted events stay
    report["retention_equals_daily"] = differences(from_daily())
    report["raw_left"] = ItemUsage.objects.filter(account=acme).count()
    return report


class _retention:
    def __init__(self, days: int) -> None:
        self.days = days

    def __enter__(self) -> None:
        from django.conf import settings

        self.saved = (getattr(settings, "USAGE_RETENTION_DAYS", 0), getattr(settings, "EVENTS_HISTORY_DAYS", 0))
        settings.USAGE_RETENTION_DAYS, settings.EVENTS_HISTORY_DAYS = self.days, 10

    def __exit__(self, *exc: object) -> None:
        from django.conf import settings

        settings.USAGE_RETENTION_DAYS, settings.EVENTS_HISTORY_DAYS = self.saved


def main() -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, skip_checks=True)
    report = run()
    print(json.dumps({"vendor": connection.vendor, **report}, default=str))


if __name__ == "__main__":
    main()
