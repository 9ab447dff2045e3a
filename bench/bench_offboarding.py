"""The leaver's rotation plan (vaults/offboarding/plan.py) in a 100,000-item organisation.

Plants 50 vaults of 2,000 items (each with one secret field), 300 people, 20 groups, and item use:
the leaver's 5,000 events over the 90-day window (spread over the items of the 10 vaults they
reach, directly or through two groups; the oldest third already summarised into daily counts by
retention) and 200,000 events of other people. Then times `build_plan` (and the JSON document
the page, the API and `manage.py offboarding_plan` print) REPEATS times each: p50 and slowest.
Target (issue 16): under 2 s.

Throwaway database `bench_offboarding` (BENCH_KEEPDB=1 keeps it, see bench/big_org.py).
"""

from __future__ import annotations

import datetime
import os
import random
import statistics
import time

from django.utils import timezone

from bench.big_org import bench_database

SEED = 1616
N_VAULTS = 50
ITEMS_PER_VAULT = 2_000
N_USERS = 300
N_GROUPS = 20
LEAVER_EVENTS = int(os.environ.get("BENCH_OFFBOARDING_EVENTS", "5000"))
OTHER_EVENTS = 200_000
REPEATS = 7
LEAVER_OP_ID = "LEAVER0000000000000000001"
ACTIONS = ["reveal"] * 3 + ["secure-copy"] * 3 + ["fill"] * 8 + ["export", "server-fetch"]


def _plant() -> str:
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
    )  # fmt: skip

    if OpUser.objects.filter(op_id=LEAVER_OP_ID).exists():  # BENCH_KEEPDB: planted by an earlier run
        return "kept from an earlier run"
    rng = random.Random(SEED)
    now = timezone.now()
    account = Account.objects.create(name="bench")
    classes = ["production", "non-production", "shared", "unclassified"]
    vaults = Vault.objects.bulk_create([
        Vault(account=account, op_id=f"v{n:025d}", name=f"Vault {n}", classification=classes[n % 4]) for n in range(N_VAULTS)
    ])  # fmt: skip
    users = OpUser.objects.bulk_create([
        OpUser(account=account, op_id=LEAVER_OP_ID if n == 0 else f"U{n:025d}", name=f"Person {n}",
               email=f"p{n}@example.com", user_type="MEMBER", state="SUSPENDED" if n == 0 else "ACTIVE")
        for n in range(N_USERS)
    ])  # fmt: skip
    leaver = users[0]
    groups = OpGroup.objects.bulk_create([OpGroup(account=account, op_id=f"g{n:025d}", name=f"Group {n}") for n in range(N_GROUPS)])
    GroupMembership.objects.bulk_create(
        [GroupMembership(group=rng.choice(groups), user=u, role="MEMBER") for u in users[1:]]
        + [GroupMembership(group=groups[0], user=leaver), GroupMembership(group=groups[1], user=leaver)],
        ignore_conflicts=True,
    )
    grants = [VaultGrant(vault=vaults[n], group=groups[n % N_GROUPS], permissions=["allow_viewing"]) for n in range(N_VAULTS)]
    grants += [VaultGrant(vault=vaults[n], user=leaver, permissions=["view_items", "view_and_copy_passwords"]) for n in (2, 3, 4, 5, 6, 7)]
    VaultGrant.objects.bulk_create(grants)
    items = Item.objects.bulk_create([
        Item(vault=vaults[v], op_id=f"i{v:04d}{n:021d}", title=f"Service {v}-{n}", category="LOGIN")
        for v in range(N_VAULTS) for n in range(ITEMS_PER_VAULT)
    ], batch_size=5000)  # fmt: skip
    SecretField.objects.bulk_create(
        [SecretField(item=i, field_id="password", field_type="CONCEALED", fingerprint=f"{i.pk:064x}") for i in items],
        batch_size=5000,
    )
    reachable = [i for i in items if i.vault_id in {vaults[n].pk for n in (0, 1, 2, 3, 4, 5, 6, 7, 20, 21)}]

    vault_op = {v.pk: v.op_id for v in vaults}
    rows = []
    for n in range(LEAVER_EVENTS):
        item = rng.choice(reachable)
        rows.append(ItemUsage(account=account, uuid=f"L{n}", timestamp=now - datetime.timedelta(days=rng.uniform(0, 89)),
                              user_op_id=leaver.op_id, item_op_id=item.op_id, vault_op_id=vault_op[item.vault_id],
                              action=rng.choice(ACTIONS)))
    for n in range(OTHER_EVENTS):
        item, user = rng.choice(items), rng.choice(users[1:])
        rows.append(ItemUsage(account=account, uuid=f"O{n}", timestamp=now - datetime.timedelta(days=rng.uniform(0, 120)),
                              user_op_id=user.op_id, item_op_id=item.op_id, vault_op_id=vault_op[item.vault_id],
                              action=rng.choice(ACTIONS)))
    ItemUsage.objects.bulk_create(rows, batch_size=5000)
    # Retention: the oldest 30 days of the window are daily counts only.
    ItemUsage.objects.filter(timestamp__lt=now - datetime.timedelta(days=60)).delete()
    return f"{len(items):,} items, {N_USERS} people, {LEAVER_EVENTS:,} leaver events, {OTHER_EVENTS:,} others"


def _time(run: object) -> tuple[list[float], list[float]]:
    """Wall-clock and this process's CPU seconds per run (the CPU figure leaves out PostgreSQL's
    share, and the wait for a core when other jobs load the machine)."""
    wall, cpu = [], []
    for _ in range(REPEATS):
        started, started_cpu = time.perf_counter(), time.process_time()
        run()  # type: ignore[operator]
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return wall, cpu


def run() -> None:
    with bench_database("bench_offboarding", _plant):
        from vaults.models import ItemUsage, ItemUsageDaily, OpUser
        from vaults.offboarding.cases import default_window
        from vaults.offboarding.plan import build_plan
        from vaults.offboarding.summary import plan_document

        leaver = OpUser.objects.get(op_id=LEAVER_OP_ID)
        since, until = default_window()
        raw = ItemUsage.objects.filter(user_op_id=leaver.op_id).count()
        daily = sum(ItemUsageDaily.objects.filter(user_op_id=leaver.op_id).values_list("count", flat=True))
        plan = build_plan(leaver, since=since, until=until)
        used = sum(1 for line in plan.lines if line.uses)
        print(f"leaver: {raw:,} raw events left, {daily:,} uses in daily counts; plan: {len(plan.lines):,} lines "
              f"({used:,} used, {len(plan.lines) - used:,} copyable only), {len(plan.removals)} removals")
        if os.environ.get("BENCH_PROFILE") == "1":
            import cProfile
            import pstats

            profile = cProfile.Profile()
            profile.runcall(build_plan, leaver, since=since, until=until)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
        for label, call in (("build_plan", lambda: build_plan(leaver, since=since, until=until)),
                            ("plan document (page/API/command)", lambda: plan_document(leaver))):
            load_before = os.getloadavg()[0]
            wall, cpu = _time(call)
            print(f"{label}: p50 {statistics.median(wall) * 1000:.0f} ms, slowest {max(wall) * 1000:.0f} ms "
                  f"(target < 2000 ms) over {REPEATS} runs; Python CPU p50 {statistics.median(cpu) * 1000:.0f} ms; "
                  f"load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}")
