"""Usage audit (vaults/usage_audit.py) over 13 months of item usage: 1,000 people x 100,000 items.

Plants 100 vaults (a fifth of them production), 100,000 items (a tenth tagged `api-key`), 1,000
people and 40 groups in a throwaway database (`bench_usage`, created and dropped here unless
BENCH_USAGE_KEEP=1), then `BENCH_USAGE_EVENTS` usage events (default 5,000,000) spread evenly over
the last 395 days in time order (as the import appends them), written with PostgreSQL COPY. Use is
skewed as in a real organisation: a few items and people account for most events.

Printed:
1. the COPY rate (the daily-count triggers of migration 0010 run inside the COPY), and the import
   of one day's events (N / 395, ~12,700 at 5M) and of a 100,000-event day through the same code
   the Events API import runs (row building, page-wise bulk insert with its daily-count upsert,
   last-used refresh, retention);
2. for each filter shape, p50/p95 of the domain answer (first page of events with items, counts
   per person and per item and the timeline in one scan, coverage) and of `/api/v1/usage?...&counts=true` and the
   `/usage/` page through the Django test client (rendering included, no network). Shapes whose
   answer takes over a second are timed 5 times instead of 15;
3. the load average before and after the measurement (other jobs share the machine), the size of
   each usage table, and the plan of the events table's first page under a broad filter (it must
   stop after the page's rows, not sort every match).

BENCH_USAGE_KEEP=1 keeps `bench_usage` and, when it already holds events, skips planting: a
re-measure then only migrates (e.g. 0012's rollup backfill, timed), imports the two days and measures;
BENCH_USAGE_SKIP_IMPORTS=1 leaves the imports out too (each run's imports add ~113k events "today").
BENCH_USAGE_DB names the database (default `bench_usage`); BENCH_USAGE_PLANT_ONLY=1 plants (or
migrates a kept database) and stops, so the untimed setup can run outside the bench lock;
BENCH_USAGE_IMPORTS_ONLY=1 times the two imports and stops.
BENCH_USAGE_COMPARE=1 times `summary()` with and without the rollups instead, alternated.
"""

from __future__ import annotations

import datetime
import io
import os
import random
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection

SEED = 20261127
N_VAULTS = 100
N_ITEMS = 100_000
N_USERS = 1_000
N_GROUPS = 40
DAYS = 395  # 13 months
REPEATS = 15
SLOW_REPEATS = 5  # for an answer over SLOW_SECONDS: the p95 of 5 is their slowest, honest enough
SLOW_SECONDS = 1.0
BIG_DAY = 100_000
ACTIONS = ["reveal"] * 4 + ["secure-copy"] * 3 + ["fill"] * 8 + ["server-fetch"] * 2 + ["export", "enter-item-edit-mode"]
CLUSTER_BY_DAY = {"vaults_itemusagedaily": "itemusagedaily_day", "vaults_itemusagepersonday": "usagepersonday_day",
                  "vaults_itemusagevaultday": "usagevaultday_day", "vaults_itemusagepersonmonth": "usagepersonmonth_unique",
                  "vaults_itemusageitemmonth": "usageitemmonth_ranked", "vaults_itemusageaccountday": "usageaccountday_day"}  # fmt: skip
COUNTRIES = ["DE", "US", "GB", "FR", "NL", "CA"]
APPS = ["1Password Browser Extension", "1Password for Windows", "1Password CLI", "1Password for iOS"]


def _plant(rng: random.Random) -> dict[str, Any]:
    from vaults.models import Account, GroupMembership, Item, OpGroup, OpUser, Vault

    account = Account.objects.create(name="bench-usage", events_url="http://events.invalid", events_token_env="BENCH_NONE")
    classes = ["production", "non-production", "shared", "personal", "unclassified"]
    vaults = Vault.objects.bulk_create([
        Vault(account=account, op_id=f"v{n:025d}", name=f"Vault {n}", classification=classes[n % len(classes)])
        for n in range(N_VAULTS)])  # fmt: skip
    users = OpUser.objects.bulk_create([
        OpUser(account=account, op_id=f"U{n:025d}", name=f"Person {n}", email=f"p{n}@example.com", user_type="MEMBER",
               state="ACTIVE") for n in range(N_USERS)])  # fmt: skip
    groups = OpGroup.objects.bulk_create([OpGroup(account=account, op_id=f"g{n:025d}", name=f"Group {n}")
                                          for n in range(N_GROUPS)])  # fmt: skip
    GroupMembership.objects.bulk_create([GroupMembership(group=group, user=user, role="MEMBER")
                                         for user in users for group in rng.sample(groups, 1)], ignore_conflicts=True)  # fmt: skip
    items = Item.objects.bulk_create([
        Item(vault=vaults[n % N_VAULTS], op_id=f"i{n:025d}", title=f"Service {n} {'API key' if n % 10 == 0 else 'login'}",
             category="API_CREDENTIAL" if n % 10 == 0 else "LOGIN", tags=["api-key"] if n % 10 == 0 else ["team"])
        for n in range(N_ITEMS)], batch_size=5000)  # fmt: skip
    return {"account": account, "vaults": vaults, "users": users, "groups": groups, "items": items}


def _skewed(rng: random.Random, n: int) -> int:
    """An index in [0, n) where low indexes are far more frequent (cube of a uniform draw)."""
    return min(n - 1, int(rng.random() ** 3 * n))


def _copy_events(org: dict[str, Any], n: int, now: datetime.datetime, rng: random.Random) -> float:
    """Write `n` events with COPY; returns seconds. Item i lives in vault i % N_VAULTS."""
    account_id = org["account"].pk
    start = now - datetime.timedelta(days=DAYS)
    span = DAYS * 86400
    columns = "account_id, uuid, timestamp, user_op_id, user_email, user_name, item_op_id, vault_op_id, action, client_ip, client_app, country"
    started = time.perf_counter()
    raw = connection.connection  # psycopg 3: COPY is only on the driver's own cursor
    assert raw is not None
    chunk = 100_000
    with raw.cursor() as cursor, cursor.copy(f"COPY vaults_itemusage ({columns}) FROM STDIN") as copy:
        for first in range(0, n, chunk):
            buffer = io.StringIO()
            for k in range(first, min(first + chunk, n)):
                item = (_skewed(rng, N_ITEMS) * 7919) % N_ITEMS  # skewed, but spread over vaults and tags
                user = (_skewed(rng, N_USERS) * 617) % N_USERS
                # In time order, as the Events API delivers them and the import appends them: a
                # time range is then a contiguous stretch of the table, as in production.
                when = start + datetime.timedelta(seconds=(k + rng.random()) * span / n)
                buffer.write(
                    f"{account_id}\tE{k:025d}\t{when.isoformat()}\tU{user:025d}\tp{user}@example.com\tPerson {user}\t"
                    f"i{item:025d}\tv{item % N_VAULTS:025d}\t{rng.choice(ACTIONS)}\t10.{user % 250}.{k % 250}.{item % 250}\t"
                    f"{rng.choice(APPS)}\t{rng.choice(COUNTRIES)}\n"
                )
            copy.write(buffer.getvalue())
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        # The triggers of this one 5M-row COPY statement wrote each rollup in hash order; the
        # import appends a page at a time, so in production a range of days is a contiguous
        # stretch of each rollup. Unclustered, the last 30 days' per-person counts read 16,151
        # blocks for 108,709 rows (359 ms at load 13). VACUUM sets the visibility map, as
        # autovacuum does after inserts, so covering indexes answer without heap visits.
        for table, index in CLUSTER_BY_DAY.items():
            cursor.execute(f"CLUSTER {table} USING {index}")
        cursor.execute("VACUUM ANALYZE")
    return elapsed


def _import_one_day(org: dict[str, Any], per_day: int, now: datetime.datetime, rng: random.Random,
                    tag: str = "D") -> float:  # fmt: skip
    """One day's events through the Events API import's own steps (no HTTP): build, insert, refresh."""
    from django.db import transaction

    from vaults.events import FEEDS, PAGE_LIMIT, _refresh_last_used
    from vaults.models import ItemUsage
    from vaults.usage_retention import summarise_old_usage

    _, build = FEEDS["itemusages"]
    account = org["account"]
    raws = []
    for k in range(per_day):
        item, user = _skewed(rng, N_ITEMS), _skewed(rng, N_USERS)
        raws.append({
            "uuid": f"{tag}{int(time.time())}{k:012d}", "timestamp": (now - datetime.timedelta(seconds=rng.random() * 86400)).isoformat(),
            "item_uuid": f"i{item:025d}", "vault_uuid": f"v{item % N_VAULTS:025d}", "action": rng.choice(ACTIONS),
            "user": {"uuid": f"U{user:025d}", "email": f"p{user}@example.com", "name": f"Person {user}"},
            "client": {"app_name": rng.choice(APPS), "ip_address": "10.0.0.1"}, "location": {"country": "DE"},
        })  # fmt: skip
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    for first in range(0, per_day, PAGE_LIMIT):  # a page at a time, as the import stores them
        with transaction.atomic():
            ItemUsage.objects.bulk_create([build(account, raw) for raw in raws[first : first + PAGE_LIMIT]],
                                          ignore_conflicts=True, batch_size=1000)  # fmt: skip
    stored = time.perf_counter() - started
    _refresh_last_used(account, {str(raw["item_uuid"]) for raw in raws})  # as sync_events: the items it stored uses of
    refreshed = time.perf_counter() - started
    summarise_old_usage(account=account, now=now)
    total = time.perf_counter() - started
    print(f"  import of one day ({per_day:,} events): {total:.2f} s (insert with daily counts {stored:.2f} s, last-used refresh "
          f"{refreshed - stored:.2f} s, retention roll-up {total - refreshed:.2f} s; load {load_before:.1f} -> {os.getloadavg()[0]:.1f})")
    return total


def _shapes(org: dict[str, Any], now: datetime.date) -> dict[str, str]:
    first_of_month = now.replace(day=1)
    january_end = first_of_month - datetime.timedelta(days=1)
    january = (january_end.replace(day=1), january_end)  # the last whole month: "January"
    quarter = (now - datetime.timedelta(days=89), now)
    busiest_item = org["items"][0]  # index 0 is the most used (the skew)
    busy_person = org["users"][0]
    return {
        "production API keys, one month": f"classification=production&tag=api-key&start={january[0]}&end={january[1]}",
        "one person, 90 days": f"person={busy_person.pk}&start={quarter[0]}&end={quarter[1]}",
        "one item, 13 months": f"item={busiest_item.pk}&start={now - datetime.timedelta(days=DAYS)}&end={now}",
        "one vault, reveals, 30 days": f"vault={org['vaults'][3].pk}&action=reveal&start={now - datetime.timedelta(days=29)}&end={now}",
        "one group, 90 days": f"group={org['groups'][5].pk}&start={quarter[0]}&end={quarter[1]}",
        "everything, default 30 days": "",
        "title contains, 90 days": f"title=API&start={quarter[0]}&end={quarter[1]}",
        "fills, 90 days": f"action=fill&start={quarter[0]}&end={quarter[1]}",
        "one country, 30 days (raw)": f"country=DE&start={now - datetime.timedelta(days=29)}&end={now}",
        "IP prefix, 30 days (raw)": f"ip=10.7.&start={now - datetime.timedelta(days=29)}&end={now}",
        "tag, 13 months": f"tag=api-key&start={now - datetime.timedelta(days=DAYS)}&end={now}",
        "everything, 13 months": f"start={now - datetime.timedelta(days=DAYS)}&end={now}",
    }


def _p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def _time(call: Callable[[], Any]) -> tuple[float, float]:
    started = time.perf_counter()
    call()  # warm: first-touch cost is the page cache, not the query
    repeats = SLOW_REPEATS if time.perf_counter() - started > SLOW_SECONDS else REPEATS
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return _p(samples, 0.5), _p(samples, 0.95)


def _measure(org: dict[str, Any], now: datetime.date) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from openclaw_web import tokens
    from vaults import usage_audit
    from vaults.usage_form import UsageFilterForm

    user = get_user_model().objects.filter(username="bench-usage").first() or get_user_model().objects.create_superuser(
        "bench-usage", password="bench-usage-password-1"
    )
    _, clear = tokens.create_token(user=user, name="bench")
    api = Client(headers={"Authorization": f"Bearer {clear}"}, HTTP_HOST="localhost")
    browser = Client(HTTP_HOST="localhost")
    browser.force_login(user)

    def domain(query: str) -> Callable[[], Any]:
        def answer() -> Any:
            form = UsageFilterForm(dict(p.split("=", 1) for p in query.split("&") if p))
            assert form.is_valid(), form.errors
            f = form.usage_filter()
            return usage_audit.with_items(usage_audit.events(f)[:50]), usage_audit.summary(f), usage_audit.coverage(f)

        return answer

    def get(client: Client, url: str) -> Callable[[], Any]:
        def answer() -> Any:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code, response.content[:200])
            return response

        return answer

    _sizes()
    _first_page_plan(org, now)
    print(f"  load average before measuring: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"  {'filter shape':<32} {'matches':>9}  {'domain p50/p95':>16}  {'API p50/p95':>16}  {'page p50/p95':>16}")
    for name, query in _shapes(org, now).items():
        form = UsageFilterForm(dict(p.split("=", 1) for p in query.split("&") if p))
        assert form.is_valid(), form.errors
        matches = usage_audit.summary(form.usage_filter()).timeline.total
        d = _time(domain(query))
        a = _time(get(api, f"/api/v1/usage?{query}&counts=true"))
        p = _time(get(browser, f"/usage/?{query}"))
        print(f"  {name:<32} {matches:>9,}  {d[0]:>7.0f}/{d[1]:>4.0f} ms  {a[0]:>7.0f}/{a[1]:>4.0f} ms  {p[0]:>7.0f}/{p[1]:>4.0f} ms")
    print(f"  load average after measuring: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def _compare_paths(org: dict[str, Any], now: datetime.date) -> None:
    """`summary()` per shape with the rollups and with the daily counts only (0012's functions
    answering None), alternated run by run so both see the same load: a ratio that holds on a
    busy machine, where absolute times do not (BENCH_USAGE_COMPARE=1)."""
    from vaults import usage_audit, usage_rollups
    from vaults.usage_form import UsageFilterForm

    real = {name: getattr(usage_rollups, name) for name in ("people", "top_items", "daily_totals")}
    print(f"  summary() median of 5, rollups vs daily counts only (load {os.getloadavg()[0]:.1f}):")
    for name, query in _shapes(org, now).items():
        form = UsageFilterForm(dict(p.split("=", 1) for p in query.split("&") if p))
        assert form.is_valid(), form.errors
        f = form.usage_filter()
        samples: dict[bool, list[float]] = {True: [], False: []}
        answers = {}
        for _ in range(5):
            for rolled in (True, False):
                for fn_name, fn in real.items():
                    setattr(usage_rollups, fn_name, fn if rolled else (lambda *a, **k: None))
                started = time.perf_counter()
                answers[rolled] = usage_audit.summary(f)
                samples[rolled].append(time.perf_counter() - started)
        for fn_name, fn in real.items():
            setattr(usage_rollups, fn_name, fn)
        same = answers[True] == answers[False]
        print(f"    {name:<32} {_p(samples[True], 0.5):>7.0f} ms vs {_p(samples[False], 0.5):>7.0f} ms  same answer: {same}")


def _sizes() -> None:
    tables = ["vaults_itemusage", "vaults_itemusagedaily", "vaults_itemusagepersonday", "vaults_itemusagepersonmonth",
              "vaults_itemusagevaultday", "vaults_itemusageitemmonth", "vaults_itemusageaccountday",
              "vaults_itemusagetagmonth", "vaults_itemusagetagday"]  # fmt: skip
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT count(*), pg_size_pretty(pg_total_relation_size('{table}')) FROM {table}")
            rows, size = cursor.fetchone()
            print(f"  {table:<30} {rows:>10,} rows {size:>9} with indexes")


def _first_page_plan(org: dict[str, Any], now: datetime.date) -> None:
    """EXPLAIN ANALYZE of the events table's first page for production vaults over 13 months."""
    from vaults import usage_audit

    f = usage_audit.UsageFilter(classification="production", start=now - datetime.timedelta(days=DAYS), end=now)
    sql, params = usage_audit.events(f)[:51].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        plan = [row[0] for row in cursor.fetchall()]
    print("  first page of events, production vaults, 13 months:")
    for line in plan:
        if "rows=" in line or "Execution Time" in line:
            print(f"    {line.strip()[:150]}")


def run() -> None:
    n = int(os.environ.get("BENCH_USAGE_EVENTS", "5000000"))
    keep = os.environ.get("BENCH_USAGE_KEEP") == "1"
    if connection.vendor != "postgresql":
        print("skipped: the usage benchmark needs PostgreSQL (COPY)")
        return
    test_settings = settings.DATABASES["default"].setdefault("TEST", {})
    test_settings["NAME"] = _db_name()
    creation = connection.creation
    reuse = keep and _has_events()
    skip_imports = reuse and os.environ.get("BENCH_USAGE_SKIP_IMPORTS") == "1"  # a quick re-measure
    started = time.perf_counter()
    old_name = creation.create_test_db(verbosity=0, autoclobber=not reuse, keepdb=reuse, serialize=False)
    if reuse:  # a kept database gets the migrations it lacks, e.g. 0010's backfill of daily counts
        print(f"migrations on the kept database: {time.perf_counter() - started:.1f} s")
    try:
        from vaults.models import Account, GroupMembership, Item, ItemUsage, OpGroup, OpUser, Vault

        rng = random.Random(SEED)
        now = datetime.datetime.now(datetime.UTC)
        org: dict[str, Any]
        print(f"database: {connection.settings_dict['NAME']}")
        if reuse and ItemUsage.objects.exists():
            account = Account.objects.get(name="bench-usage")
            org = {"account": account, "vaults": list(Vault.objects.filter(account=account).order_by("op_id")),
                   "users": list(OpUser.objects.filter(account=account).order_by("op_id")),
                   "groups": list(OpGroup.objects.filter(account=account).order_by("op_id")),
                   "items": list(Item.objects.filter(vault__account=account).order_by("op_id")[:1])}  # fmt: skip
            n = ItemUsage.objects.count()
            print(f"reusing {n:,} events")
        else:
            started = time.perf_counter()
            org = _plant(rng)
            print(f"planted in {time.perf_counter() - started:.1f} s: {N_ITEMS:,} items, {N_USERS:,} people, "
                  f"{N_GROUPS} groups ({GroupMembership.objects.count():,} memberships), {N_VAULTS} vaults")
            seconds = _copy_events(org, n, now, rng)
            print(f"  COPY of {n:,} events over {DAYS} days: {seconds:.1f} s ({n / seconds:,.0f} rows/s)")
        if os.environ.get("BENCH_USAGE_PLANT_ONLY") == "1":  # untimed setup, run outside the bench lock
            return
        from vaults.events import _refresh_last_used

        if not skip_imports:
            _refresh_last_used(org["account"])  # what the first import did; the timed day is a later one
            _import_one_day(org, max(1, n // DAYS), now, rng)
            _import_one_day(org, BIG_DAY, now, rng, tag="B")
        if os.environ.get("BENCH_USAGE_IMPORTS_ONLY") == "1":
            return
        if os.environ.get("BENCH_USAGE_COMPARE") == "1":
            _compare_paths(org, now.date())
        else:
            _measure(org, now.date())
    finally:
        if not keep:
            creation.destroy_test_db(old_name, verbosity=0)
        else:
            settings.DATABASES["default"]["NAME"] = old_name


def _db_name() -> str:
    """The throwaway database; BENCH_USAGE_DB lets concurrent runs keep apart."""
    return os.environ.get("BENCH_USAGE_DB", "bench_usage")


def _has_events() -> bool:
    """Whether a kept bench_usage database with events exists (BENCH_USAGE_KEEP=1 re-runs)."""
    import psycopg

    params = connection.get_connection_params()
    params["dbname"] = _db_name()
    try:
        with psycopg.connect(**params) as conn:
            return bool(conn.execute("SELECT EXISTS (SELECT 1 FROM vaults_itemusage)").fetchone()[0])  # type: ignore[index]
    except psycopg.Error:
        return False
