"""Point-in-time history (vaults/history.py) over a year of hourly syncs of a 20,000-item organisation.

Plants 100 vaults, 20,000 items, 1,000 people and 40 groups in a throwaway database
(`bench_history`, created and dropped here), records the first state, then simulates
`BENCH_HISTORY_DAYS` days (default 365) of hourly syncs with 1% of the items changing per day.
Running 8,760 real syncs through the fake `op` would take days, so each simulated hour writes its
share of the day's changes straight into the synced tables (what a sync's snapshot step would
store) and then calls `record_history` at that hour, as `run_sync` does after a successful sync.

Churn per day, spread over random hours: 1% of the items (a third added, a third archived, a third
deleted in 1Password), 2 grants changed, 1 person suspended or reactivated, 1 membership moved.
Printed: rows written, `pg_total_relation_size` of each span table (rows + indexes + TOAST), and
the time of `record_history` per call (every hour, changed or not).
"""

from __future__ import annotations

import datetime
import os
import random
import statistics
import time
from collections import Counter
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection

if TYPE_CHECKING:
    from vaults.models import Vault

SEED = 20260401
N_VAULTS = 100
N_ITEMS = 20_000
N_USERS = 1_000
N_GROUPS = 40
DAILY_ITEM_CHURN = 0.01
CATEGORIES = ["LOGIN"] * 50 + ["API_CREDENTIAL"] * 20 + ["DATABASE"] * 10 + ["SERVER"] * 5 + ["SSH_KEY"] * 5 + ["SECURE_NOTE"] * 10
PERMISSIONS = [["allow_viewing"], ["allow_viewing", "allow_editing"], ["view_items", "export_items"], ["allow_managing"]]
START = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def _plant(rng: random.Random) -> int:
    from vaults.models import Account, GroupMembership, OpGroup, OpUser, Vault, VaultGrant

    account = Account.objects.create(name="bench-history")
    classes = ["production", "non-production", "shared", "personal", "unclassified"]
    vaults = Vault.objects.bulk_create([
        Vault(account=account, op_id=f"v{n:025d}", name=f"Vault {n}", classification=classes[n % len(classes)])
        for n in range(N_VAULTS)])
    users = OpUser.objects.bulk_create([
        OpUser(account=account, op_id=f"U{n:025d}", name=f"Person {n}", email=f"p{n}@example.com", user_type="MEMBER",
               state="ACTIVE") for n in range(N_USERS)])
    groups = OpGroup.objects.bulk_create([OpGroup(account=account, op_id=f"g{n:025d}", name=f"Group {n}")
                                          for n in range(N_GROUPS)])
    GroupMembership.objects.bulk_create([GroupMembership(group=group, user=user, role="MEMBER")
                                         for user in users for group in rng.sample(groups, 2)], ignore_conflicts=True)
    grants = [VaultGrant(vault=vault, group=group, permissions=rng.choice(PERMISSIONS))
              for vault in vaults for group in rng.sample(groups, 4)]
    grants += [VaultGrant(vault=vault, user=user, permissions=rng.choice(PERMISSIONS))
               for vault in vaults for user in rng.sample(users, 5)]
    VaultGrant.objects.bulk_create(grants)
    _add_items(rng, vaults, N_ITEMS, START)
    return int(account.pk)


_serial = iter(range(10**9))


def _add_items(rng: random.Random, vaults: list[Vault], n: int, at: datetime.datetime) -> None:
    from vaults.models import Item, SecretField

    items = Item.objects.bulk_create([
        Item(vault=rng.choice(vaults), op_id=f"i{next(_serial):025d}", title="item", category=rng.choice(CATEGORIES),
             tags=["service-account"] if rng.random() < 0.1 else [])
        for _ in range(n)], batch_size=2000)
    SecretField.objects.bulk_create([
        SecretField(item=item, field_id="password", field_type="CONCEALED", fingerprint=f"{item.pk:064x}", changed_at=at)
        for item in items if item.category != "SECURE_NOTE"], batch_size=2000)


def _churn(rng: random.Random, account_id: int, hour: datetime.datetime, item_changes: int, people_changes: int) -> None:
    """One hour's share of the day's changes, written as a sync would store them."""
    from vaults.models import GroupMembership, Item, OpGroup, OpUser, Vault, VaultGrant

    if item_changes:
        live = list(Item.objects.filter(vault__account_id=account_id, removed_at=None, archived=False)
                    .order_by("?").values_list("pk", flat=True)[: 2 * item_changes])
        archive, remove = live[: item_changes // 3], live[item_changes // 3 : 2 * (item_changes // 3)]
        Item.objects.filter(pk__in=archive).update(archived=True)
        Item.objects.filter(pk__in=remove).update(removed_at=hour)
        _add_items(rng, list(Vault.objects.filter(account_id=account_id)), item_changes - len(archive) - len(remove), hour)
    for _ in range(people_changes):
        kind = rng.choice(["grant", "grant", "user", "membership"])
        if kind == "grant":
            grant = VaultGrant.objects.filter(vault__account_id=account_id).order_by("?").first()
            if grant is not None:
                VaultGrant.objects.filter(pk=grant.pk).update(permissions=rng.choice(PERMISSIONS))
        elif kind == "user":
            user = OpUser.objects.filter(account_id=account_id).order_by("?").first()
            if user is not None:
                OpUser.objects.filter(pk=user.pk).update(state="SUSPENDED" if user.state == "ACTIVE" else "ACTIVE")
        else:
            membership = GroupMembership.objects.filter(group__account_id=account_id).order_by("?").first()
            group = OpGroup.objects.filter(account_id=account_id).order_by("?").first()
            if membership is not None and group is not None:
                user_id = membership.user_id
                membership.delete()
                GroupMembership.objects.get_or_create(group=group, user_id=user_id)


def _sizes() -> dict[str, int]:
    from vaults.models import GrantSpan, GroupSpan, ItemSpan, MembershipSpan, UserSpan, VaultSpan

    sizes = {}
    with connection.cursor() as cursor:
        for model in (UserSpan, GroupSpan, MembershipSpan, GrantSpan, VaultSpan, ItemSpan):
            cursor.execute("SELECT pg_total_relation_size(%s)", [model._meta.db_table])
            sizes[model.__name__] = int(cursor.fetchone()[0])
    return sizes


def _rows() -> dict[str, int]:
    from vaults.models import GrantSpan, GroupSpan, ItemSpan, MembershipSpan, UserSpan, VaultSpan

    return {m.__name__: m.objects.count() for m in (UserSpan, GroupSpan, MembershipSpan, GrantSpan, VaultSpan, ItemSpan)}


def _simulate(account_id: int, days: int) -> None:
    from vaults.history import access_at, access_changes, record_history
    from vaults.models import Account

    rng = random.Random(SEED)
    account = Account.objects.get(pk=account_id)
    started = time.perf_counter()
    first = record_history(account, at=START)
    print(f"first recording: {first:,} spans in {time.perf_counter() - started:.2f} s")
    per_day_items = round(N_ITEMS * DAILY_ITEM_CHURN)
    timings: list[float] = []
    changed_hours: list[float] = []
    written = 0
    for day in range(days):
        hours = Counter(rng.randrange(24) for _ in range(per_day_items))
        people = Counter(rng.randrange(24) for _ in range(4))
        for hour in range(24):
            at = START + datetime.timedelta(days=day, hours=hour + 1)
            _churn(rng, account_id, at, hours.get(hour, 0), people.get(hour, 0))
            started = time.perf_counter()
            n = record_history(account, at=at)
            elapsed = time.perf_counter() - started
            timings.append(elapsed)
            if n:
                changed_hours.append(elapsed)
            written += n
        if (day + 1) % 30 == 0 or day + 1 == days:
            print(f"  day {day + 1}: {written:,} spans opened or closed, mean record_history "
                  f"{statistics.mean(timings) * 1000:.0f} ms")
    timings.sort()
    print(f"{len(timings):,} recordings over {days} days: mean {statistics.mean(timings) * 1000:.0f} ms, "
          f"p95 {timings[int(0.95 * len(timings))] * 1000:.0f} ms, max {timings[-1] * 1000:.0f} ms")
    rows, sizes = _rows(), _sizes()
    total_rows, total_bytes = sum(rows.values()), sum(sizes.values())
    for name in rows:
        print(f"  {name:<15} {rows[name]:>9,} rows  {sizes[name] / 2**20:8.1f} MiB")
    print(f"  {'total':<15} {total_rows:>9,} rows  {total_bytes / 2**20:8.1f} MiB "
          f"({total_bytes / max(total_rows, 1):.0f} bytes per row with indexes)")
    end = START + datetime.timedelta(days=days, hours=1)
    window = max(START, end - datetime.timedelta(days=90))
    started = time.perf_counter()
    changes = access_changes([account], window, end)
    print(f"access_changes over the last {(end - window).days} days (a quarter's report): {len(changes):,} changes "
          f"in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    rows_at = access_at(account, window)
    print(f"access_at one moment: {len(rows_at):,} user-vault accesses in {time.perf_counter() - started:.2f} s")
    if days < 365:
        growth = (total_rows - first) / days * 365 + first
        print(f"  a year at this rate: ~{growth:,.0f} rows, ~{growth * total_bytes / max(total_rows, 1) / 2**20:.0f} MiB")


def run() -> None:
    days = int(os.environ.get("BENCH_HISTORY_DAYS", "365"))
    test_settings = settings.DATABASES["default"].setdefault("TEST", {})
    test_settings["NAME"] = "bench_history" if connection.vendor == "postgresql" else None
    creation = connection.creation
    old_name = creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False, serialize=False)
    try:
        print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
        rng = random.Random(SEED)
        started = time.perf_counter()
        account_id = _plant(rng)
        print(f"planted in {time.perf_counter() - started:.1f} s: {N_ITEMS:,} items, {N_USERS:,} people, "
              f"{N_GROUPS} groups, {N_VAULTS} vaults")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        _simulate(account_id, days)
    finally:
        creation.destroy_test_db(old_name, verbosity=0)
