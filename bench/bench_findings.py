"""Findings engine at organisation scale: 100,000 items, 1,000 people, 100 vaults.

Plants the organisation with bulk_create in a throwaway database (`bench_findings`, or
`BENCH_FINDINGS_DB`; created and dropped here, kept with BENCH_KEEPDB=1 and then reset before
the runs; BENCH_PLANT_ONLY=1 with BENCH_KEEPDB=1 plants and stops, untimed; PostgreSQL when
DATABASE_URL points at it), then times `compute_findings`:
1. first run (every finding is new: bulk inserts), a full run; then, only on a server running
   without autovacuum, an untimed ANALYZE of the findings tables (what autovacuum does within a
   minute of such a run, long before the next sync);
2. second run on unchanged data five minutes later (incremental: the clock moves a few findings);
3. a third after a 1% change, the way a sync writes it: 0.4% of the items edited (title), 0.3%
   archived, 0.3% with a new secret (fingerprint and changed_at), 200 usage events, 10 grants
   (incremental);
4. a full run at the same moment as 3, which must write nothing: the incremental run left exactly
   the full run's findings (the bench fails otherwise);
5. peak memory: the process's maximum RSS, and Python's allocation peak (tracemalloc) over a full
   recomputation (untimed: tracemalloc slows Python down).
Targets (issue #17 item 4): first run < 8 s, recompute after a 1% change < 2 s.

Proportions, chosen to look like a mid-size organisation after a few years without hygiene:
3% of items share a secret with 1-3 others, 2% are weak, 40% are non-human secrets that rotate,
30% have no tags, 40% no notes, 25% of titles break the naming convention, 5% have an expiry.
"""

from __future__ import annotations

import datetime
import os
import random
import resource
import time
import tracemalloc
from collections import Counter
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

SEED = 20260101
N_VAULTS = 100
N_ITEMS = 100_000
N_USERS = 1_000
N_GROUPS = 40
N_USAGES = 200_000
ENVIRONMENTS = ["Production", "Staging", "Development", "Shared"]
SERVICES = ["Stripe", "Postgres", "AWS", "GitHub", "Datadog", "Twilio", "Sentry", "Redis", "Okta", "Slack"]
TYPES = ["API Key", "Database Password", "Admin Login", "SSH Key", "Token"]
CATEGORIES = (
    ["LOGIN"] * 50
    + ["API_CREDENTIAL"] * 20
    + ["DATABASE"] * 10
    + ["SERVER"] * 5
    + ["SSH_KEY"] * 5
    + ["SECURE_NOTE"] * 10
)


def _plant(now: datetime.datetime) -> dict[str, int]:
    from vaults.models import (
        Account,
        GroupMembership,
        Item,
        ItemUsage,
        OpGroup,
        OpUser,
        SecretField,
        Vault,
        VaultGrant,
    )

    rng = random.Random(SEED)
    account = Account.objects.create(name="bench")
    classes = ["production"] * 25 + ["non-production"] * 40 + ["shared"] * 20 + ["personal"] * 10 + ["unclassified"] * 5
    vaults = Vault.objects.bulk_create(
        [
            Vault(account=account, op_id=f"v{n:025d}", name=f"Vault {n} {classes[n % len(classes)]}",
                  classification=classes[n % len(classes)], vault_type="USER_CREATED")
            for n in range(N_VAULTS)
        ]
    )  # fmt: skip
    users = OpUser.objects.bulk_create(
        [
            OpUser(account=account, op_id=f"u{n:025d}", name=f"Person {n}", email=f"p{n}@example.com",
                   user_type="SERVICE_ACCOUNT" if n % 200 == 0 else "MEMBER",
                   state="SUSPENDED" if n % 97 == 0 else "ACTIVE")
            for n in range(N_USERS)
        ]
    )  # fmt: skip
    groups = OpGroup.objects.bulk_create(
        [OpGroup(account=account, op_id=f"g{n:025d}", name=f"Team {n}", state="ACTIVE") for n in range(N_GROUPS)]
    )
    memberships = []
    for user in users:
        for group in rng.sample(groups, rng.choice([1, 1, 2, 3])):
            memberships.append(GroupMembership(group=group, user=user, role="MEMBER"))
    GroupMembership.objects.bulk_create(memberships, batch_size=2000)
    grants = []
    for group in groups:
        for vault in rng.sample(vaults, 6):
            grants.append(VaultGrant(vault=vault, group=group, permissions=["allow_viewing", "allow_editing"]))
    for user in users:
        count = 25 if user.pk % 150 == 0 else rng.choice([0, 1, 2, 3])
        for vault in rng.sample(vaults, count):
            perms = ["view_items", "manage_vault"] if rng.random() < 0.03 else ["view_items", "edit_items"]
            grants.append(VaultGrant(vault=vault, user=user, permissions=perms))
    VaultGrant.objects.bulk_create(grants, batch_size=2000)

    items = []
    for n in range(N_ITEMS):
        vault = vaults[n % N_VAULTS]
        category = rng.choice(CATEGORIES)
        roll = rng.random()
        if roll < 0.05:
            title = rng.choice(["Password", "API Key", "Token", "Admin"])
        elif roll < 0.25:
            title = f"{rng.choice(SERVICES)} thing {n}"
        else:
            title = f"{rng.choice(SERVICES)} {rng.choice(ENVIRONMENTS)} {rng.choice(TYPES)} {n}"
        created = now - datetime.timedelta(days=rng.randint(1, 1500))
        updated = created + (now - created) * rng.random()
        tags = [] if rng.random() < 0.30 else ["team-x"] + (["deprecated"] if rng.random() < 0.01 else [])
        if category == "LOGIN" and rng.random() < 0.1:
            tags.append("service-account")
        items.append(
            Item(vault=vault, op_id=f"i{n:025d}", title=title, category=category, tags=tags,
                 urls=[{"href": "https://example.com"}] if rng.random() < 0.8 else [], has_notes=rng.random() > 0.4,
                 field_labels=[{"label": "password", "type": "CONCEALED"}, {"label": "username", "type": "STRING"}],
                 expires_at=(now + datetime.timedelta(days=rng.randint(-60, 400))).date() if rng.random() < 0.05 else None,
                 archived=rng.random() < 0.02, op_created_at=created, op_updated_at=updated)
        )  # fmt: skip
    items = Item.objects.bulk_create(items, batch_size=5000)

    fields = []
    shared_pool = [f"{rng.getrandbits(256):064x}" for _ in range(N_ITEMS * 3 // 100 // 2)]
    for item in items:
        fingerprint = rng.choice(shared_pool) if rng.random() < 0.03 else f"{rng.getrandbits(256):064x}"
        weak = rng.random() < 0.02
        changed = now - datetime.timedelta(days=rng.randint(0, 700))
        fields.append(
            SecretField(item=item, field_id="password", label="password", field_type="CONCEALED",
                        purpose="PASSWORD" if item.category == "LOGIN" else "", fingerprint=fingerprint,
                        zxcvbn_score=1 if weak else 4, length=8 if weak else 24, strength="WEAK" if weak else "FANTASTIC",
                        changed_at=changed)
        )  # fmt: skip
        if rng.random() < 0.1:
            fields.append(
                SecretField(item=item, field_id="extra", label="recovery code", field_type="CONCEALED",
                            fingerprint=f"{rng.getrandbits(256):064x}", zxcvbn_score=4, length=30, changed_at=changed)
            )  # fmt: skip
    SecretField.objects.bulk_create(fields, batch_size=5000)

    usages = []
    for n in range(N_USAGES):
        user = users[rng.randrange(N_USERS)]
        item = items[rng.randrange(N_ITEMS)]
        usages.append(
            ItemUsage(account=account, uuid=f"e{n}", timestamp=now - datetime.timedelta(days=rng.random() * 300),
                      user_op_id=user.op_id, item_op_id=item.op_id, vault_op_id=vaults[item.vault_id - vaults[0].pk].op_id)
        )  # fmt: skip
    ItemUsage.objects.bulk_create(usages, batch_size=5000)
    return {"vaults": len(vaults), "users": len(users), "groups": len(groups), "grants": len(grants),
            "items": len(items), "secret_fields": len(fields), "item_usages": len(usages)}  # fmt: skip


def _load() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed_run(label: str, now: datetime.datetime) -> Any:
    from vaults.findings.engine import compute_findings
    from vaults.models import Account

    account = Account.objects.get(name="bench")
    started = time.perf_counter()
    summary = compute_findings(account=account, now=now)
    elapsed = time.perf_counter() - started
    print(
        f"{label}: {elapsed:6.2f} s  {'full' if summary.full else 'incremental'} created={summary.created} "
        f"updated={summary.updated} reopened={summary.reopened} resolved={summary.resolved} score={summary.score} "
        f"(load {_load()}, max RSS {_maxrss_mb():.0f} MB)"
    )
    print("   present per kind: " + ", ".join(f"{k}={v}" for k, v in sorted(summary.present.items())))
    return summary


def _analyze_as_autovacuum_would() -> None:
    """With autovacuum off (as on the benchmark machine), the later runs would plan on statistics
    taken while the findings table was empty. A production server's autovacuum analyzes a table
    after 10% of it changed, within a minute (its naptime), long before the next hourly sync: do
    that here, untimed, and say so. Nothing happens when autovacuum is on."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        if cursor.fetchone()[0] == "on":
            return
        started = time.perf_counter()
        cursor.execute("ANALYZE findings_finding, findings_findingstatusspan, findings_finding_related_items")
    print(f"   autovacuum is off here: ANALYZE of the findings tables, as it would run ({time.perf_counter() - started:.2f} s, untimed)")


def _reset() -> None:
    """A kept database: forget the findings of an earlier bench run, keep the organisation."""
    from vaults.findings.models import Finding, FindingStatusSpan, HealthSnapshot
    from vaults.models import Account

    account = Account.objects.get(name="bench")
    FindingStatusSpan.objects.filter(account=account).delete()
    Finding.related_items.through.objects.filter(finding__account=account).delete()
    Finding.objects.filter(account=account).delete()
    HealthSnapshot.objects.filter(account=account).delete()
    Account.objects.filter(pk=account.pk).update(findings_computed_at=None)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def _change_one_percent(now: datetime.datetime, rng: random.Random) -> None:
    """1% of the items changed as a sync writes them (module docstring, step 3)."""
    from vaults.models import Account, Item, ItemUsage, OpUser, SecretField, Vault, VaultGrant

    account = Account.objects.get(name="bench")
    ids = list(Item.objects.filter(vault__account=account, archived=False).order_by("pk").values_list("pk", flat=True))
    picked = rng.sample(ids, len(ids) // 100)
    edited, archived, rotated = (
        picked[: len(picked) * 4 // 10],
        picked[len(picked) * 4 // 10 : len(picked) * 7 // 10],
        picked[len(picked) * 7 // 10 :],
    )
    edits = list(Item.objects.filter(pk__in=edited))
    for item in edits:
        item.title = f"{item.title} (renamed)"
        item.op_updated_at = now
    Item.objects.bulk_update(edits, ["title", "op_updated_at"], batch_size=500)
    Item.objects.filter(pk__in=archived).update(archived=True)
    fields = list(SecretField.objects.filter(item_id__in=rotated))
    for field in fields:
        field.fingerprint = f"{rng.getrandbits(256):064x}"
        field.changed_at = now
    SecretField.objects.bulk_update(fields, ["fingerprint", "changed_at"], batch_size=500)
    users = list(OpUser.objects.filter(account=account).order_by("pk")[:200])
    used = list(Item.objects.filter(pk__in=rng.sample(ids, 200)).values_list("op_id", "vault__op_id"))
    ItemUsage.objects.bulk_create(
        [ItemUsage(account=account, uuid=f"bench-1pct-{n}-{now.timestamp()}", timestamp=now, user_op_id=users[n].op_id,
                   item_op_id=item_op_id, vault_op_id=vault_op_id) for n, (item_op_id, vault_op_id) in enumerate(used)]
    )  # fmt: skip
    vaults = list(Vault.objects.filter(account=account).order_by("pk")[:10])
    VaultGrant.objects.bulk_create(
        [VaultGrant(vault=vault, user=users[-1 - n], permissions=["view_items"]) for n, vault in enumerate(vaults)],
        ignore_conflicts=True,
    )
    print(f"changed: {len(edited)} edited, {len(archived)} archived, {len(rotated)} new secrets, 200 uses, 10 grants")


def _python_peak(now: datetime.datetime) -> None:
    from vaults.findings import incremental
    from vaults.findings.engine import compute_findings
    from vaults.models import Account

    account = Account.objects.get(name="bench")
    incremental.forget(account=account)
    tracemalloc.start()
    compute_findings(account=account, now=now)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak memory: Python allocations {peak / 2**20:.0f} MB during a full recomputation (tracemalloc), "
          f"process max RSS {_maxrss_mb():.0f} MB (includes planting 100k items)")  # fmt: skip


def run() -> None:
    from vaults.models import Item

    keep = os.environ.get("BENCH_KEEPDB") == "1"
    test_settings = settings.DATABASES["default"].setdefault("TEST", {})
    name = os.environ.get("BENCH_FINDINGS_DB", "bench_findings")
    test_settings["NAME"] = name if connection.vendor == "postgresql" else None
    creation = connection.creation
    old_name = creation.create_test_db(verbosity=0, autoclobber=not keep, keepdb=keep, serialize=False)
    try:
        print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
        now = timezone.now()
        if Item.objects.filter(vault__account__name="bench").exists():
            _reset()
        else:
            started = time.perf_counter()
            planted = _plant(now)
            print(
                f"planted in {time.perf_counter() - started:.1f} s: "
                + ", ".join(f"{k}={v}" for k, v in planted.items())
            )
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM ANALYZE")
            if os.environ.get("BENCH_PLANT_ONLY") == "1":
                # Plant outside the shared benchmark lock; a later run with BENCH_KEEPDB=1 times.
                return
        _timed_run("first run (all new)          ", now)
        _analyze_as_autovacuum_would()
        _timed_run("second run (nothing changed) ", now + datetime.timedelta(minutes=5))
        _change_one_percent(now + datetime.timedelta(minutes=7), random.Random(SEED + 1))
        later = now + datetime.timedelta(minutes=10)
        _timed_run("third run (after a 1% change)", later)
        from vaults.findings import incremental
        from vaults.models import Account

        incremental.forget(account=Account.objects.get(name="bench"))
        check = _timed_run("full run at the same moment  ", later)
        if (check.created, check.updated, check.reopened, check.resolved) != (0, 0, 0, 0):
            raise SystemExit("the incremental run left other findings than a full run: see the counts above")
        print("the full run wrote nothing: the incremental run left exactly its findings")
        _python_peak(later)
        print("kinds planted: " + ", ".join(f"{k}={v}" for k, v in Counter(CATEGORIES).items()))
    finally:
        connection.close()
        if not keep:
            creation.destroy_test_db(old_name, verbosity=0)
