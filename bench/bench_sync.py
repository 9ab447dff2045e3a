"""Sync cost at organisation scale: 100 vaults, 20,000 items, 1,000 people, fake `op` costing
120 ms per process (start-up and sign-in) and 30 ms per request.

Runs the real sync (`vaults.sync.run_sync`) against the fake `op` subprocess in a throwaway
database (`bench_sync`) and reports, for three situations, wall time, `op` calls by command and
rate-limit requests:
1. a full first sync (concurrency OP_CONCURRENCY, default 4; item details OP_ITEM_BATCH, default
   100, per `op item get -` process);
2. a sync with nothing changed;
3. a sync after 1% of the items changed, in 5 vaults;
side by side with the naive way (one `op item get` per item, one at a time), whose wall time is
measured on a sample of items and extrapolated linearly (running it whole takes over an hour).

Targets: nothing changed → at most 2 item-side calls; 1% changed → at most 1 + 5 + changed-item
calls (issue #3); full sync ≥ 3.5x faster than the naive run, and within 1.25x of the
latency-bound ideal, requests x 30 ms / concurrency: what the sync would take if only 1Password's
answers cost time (issue #17). The fake sleeps its latency once per request, one request after
another inside a batch (no concurrency inside op is modelled), and adds its own Python start-up
(~60-100 ms of CPU per process) to FAKE_OP_START_MS.

Where the time goes (bench/sync_timeline.py, recorded here, never by the product): op calls in
flight over time (seconds at 0, 1, 2, 3, 4+ in flight; the mean per phase), CPU seconds of the
sync process and of the op processes. BENCH_SYNC_STACKS=N adds the N hottest functions of a
sampling profile of every thread (cProfile sees only the calling one, and parsing runs on the op
threads); BENCH_SYNC_FULL_ONLY=1 stops after the full sync. BENCH_SYNC_REREAD=1 adds, right after
the full sync, one that reads every item again with no secret changed (each item's version moved,
as after a bulk edit of tags): what reusing stored zxcvbn scores saves (`zxcvbn runs` per sync,
an exact count). BENCH_SYNC_DB names the throwaway database (default `bench_sync`).

BENCH_SYNC_ITEMS etc. shrink the organisation; BENCH_SYNC_START_MS, BENCH_SYNC_LATENCY_MS and
BENCH_SYNC_ITEM_BATCH (sets OP_ITEM_BATCH) change the costs and the batch size.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import tempfile
import time
from collections import Counter
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

from bench import sync_timeline

REPO = Path(__file__).resolve().parent.parent
# BENCH_SYNC_ITEMS etc. shrink the organisation for a quick smoke run; the figures in the README
# are from the defaults.
SIZES = {name: int(os.environ.get(f"BENCH_SYNC_{name.upper()}", default))
         for name, default in {"vaults": 100, "items": 20_000, "users": 1_000, "groups": 40}.items()}
START_MS = int(os.environ.get("BENCH_SYNC_START_MS", 120))
LATENCY_MS = int(os.environ.get("BENCH_SYNC_LATENCY_MS", 30))
CHANGED_VAULTS = 5
NAIVE_SAMPLE = 200
ITEM_SIDE = ("vault list", "item list", "item get")


def _cpu_seconds() -> tuple[float, float]:
    """CPU seconds (user + system) of this process and of its finished children (the op calls)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _calls(log: Path) -> list[dict[str, Any]]:
    from vaults.fake_op.calllog import read_call_log

    return read_call_log(log) if log.exists() else []


def _zxcvbn_runs() -> int:
    from vaults.op import fingerprint

    # Absent before score reuse: the same bench then times the code it replaced.
    runs = getattr(fingerprint, "zxcvbn_runs", None)
    return runs() if runs else -1


def _timed_sync(label: str, account: Any, scope: str, log: Path, account_file: Path) -> dict[str, Any]:
    from vaults import sync
    from vaults.fake_op.knobs import counter_path

    log.unlink(missing_ok=True)
    # Each run starts in a fresh rate-limit window, as the hourly schedule would: the full sync
    # alone spends ~20,700 requests, over the Business plan's 10,000 per hour.
    counter_path(str(account_file)).unlink(missing_ok=True)
    cpu_before = _cpu_seconds()
    scored_before = _zxcvbn_runs()
    started = time.perf_counter()
    sampling: AbstractContextManager[dict[str, Any]] = nullcontext({})
    if os.environ.get("BENCH_SYNC_STACKS"):
        sampling = sync_timeline.sample_stacks()
    with sync_timeline.record() as timeline, sampling as stacks:
        run, _ = sync.start_sync(account=account, scope=scope)
        run = sync.run_sync(sync_run_id=run.pk)
    if os.environ.get("BENCH_SYNC_STACKS"):
        print(f"  stack samples: {stacks['samples']}")
        for kind in ("self", "inclusive"):
            for name, n in stacks[kind].most_common(int(os.environ["BENCH_SYNC_STACKS"])):
                print(f"    {kind:<9} {n:6d} {name}")
    wall = time.perf_counter() - started
    cpu = _cpu_seconds()
    scored = _zxcvbn_runs() - scored_before if scored_before >= 0 else None
    calls = _calls(log)
    by_command = Counter(c["command"] for c in calls)
    durations = [c["duration_ms"] / 1000 for c in calls]
    row: dict[str, Any] = {
        "label": label, "status": run.status, "wall_s": round(wall, 1), "calls": len(calls),
        "item_get_items": sum(len(c.get("items", [])) or 1 for c in calls if c["command"] == "item get"),
        "item_side_calls": sum(by_command[c] for c in ITEM_SIDE), "requests": run.op_requests,
        "by_command": dict(by_command), "mean_call_s": round(statistics.mean(durations), 3) if durations else 0.0,
        "cpu_s": {"sync": round(cpu[0] - cpu_before[0], 1), "op": round(cpu[1] - cpu_before[1], 1)},
        "zxcvbn_runs": scored,
        "timeline": sync_timeline.summary(timeline, concurrency=settings.OP_CONCURRENCY),
    }
    print(f"{label:<28} {run.status:<10} wall {wall:8.1f} s  calls {len(calls):6d}  item-side {row['item_side_calls']:6d}  "
          f"requests {run.op_requests:6d}  mean call {row['mean_call_s']:.3f} s")
    print(f"{'':<28} {dict(sorted(by_command.items()))}; items read by item get: {row['item_get_items']}")
    print(f"  CPU: sync process {row['cpu_s']['sync']} s, op processes {row['cpu_s']['op']} s; "
          f"zxcvbn runs: {'not counted' if scored is None else scored}")
    sync_timeline.print_summary(label, row["timeline"])
    return row


def _change_one_percent(path: Path, *, vaults: int) -> int:
    """Edit 1% of the items, all in `vaults` vaults, in one locked write (as 1Password would
    after a busy hour): version, updated_at and the vaults' content_version move."""
    from vaults.fake_op import account as fake

    with fake.locked_update(path) as data:
        target = {v["id"] for v in data["vaults"][:vaults]}
        candidates = [i for i in data["items"] if i["vault_id"] in target and i.get("state", "ACTIVE") == "ACTIVE"]
        wanted = len(data["items"]) // 100
        for item in candidates[:wanted]:
            item["title"] = f"{item['title']} (edited)"
            fake.touch_item(data, item)
        return min(wanted, len(candidates))


def _touch_every_item(path: Path) -> int:
    """Move every active item's version, values untouched: the next sync reads them all again."""
    from vaults.fake_op import account as fake

    with fake.locked_update(path) as data:
        active = [i for i in data["items"] if i.get("state", "ACTIVE") == "ACTIVE"]
        for item in active:
            fake.touch_item(data, item)
        return len(active)


def _naive(path: Path, token: str, sample: list[tuple[str, str]]) -> float:
    """Mean wall time of one sequential `op item get` — the naive sync's unit of work."""
    from vaults.op import OpClient

    client = OpClient(op_bin=settings.OP_BIN, token=token, timeout=60, max_retries=2,
                      fingerprint_key=settings.FINGERPRINT_KEY.encode())
    started = time.perf_counter()
    for item_id, vault_id in sample:
        client.item_get(item_id, vault_id)
    return (time.perf_counter() - started) / len(sample)


def run() -> None:
    from vaults.fake_op.demo import generate_organisation
    from vaults.fake_op.knobs import counter_path
    from vaults.models import Account, Item, SyncRun

    test_settings = settings.DATABASES["default"].setdefault("TEST", {})
    test_settings["NAME"] = os.environ.get("BENCH_SYNC_DB", "bench_sync") if connection.vendor == "postgresql" else None
    creation = connection.creation
    old_name = creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False, serialize=False)
    workdir = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    try:
        started = time.perf_counter()
        data = generate_organisation(now=datetime.now(UTC), vaults=SIZES["vaults"], items=SIZES["items"],
                                     users=SIZES["users"], groups=SIZES["groups"])
        path = workdir / "account.json"
        path.write_text(json.dumps(data))
        print(f"database: {connection.vendor}; organisation {SIZES} generated in {time.perf_counter() - started:.1f} s")
        log = workdir / "calls.jsonl"
        token = data["tokens"][0]["token"]
        os.environ.update(FAKE_OP_ACCOUNT=str(path), FAKE_OP_CALL_LOG=str(log), OP_SERVICE_ACCOUNT_TOKEN=token,
                          FAKE_OP_START_MS=str(START_MS), FAKE_OP_LATENCY_MS=str(LATENCY_MS))
        settings.OP_BIN = str(REPO / "bin" / "fake-op")
        if "BENCH_SYNC_ITEM_BATCH" in os.environ:
            settings.OP_ITEM_BATCH = int(os.environ["BENCH_SYNC_ITEM_BATCH"])
        account = Account.objects.create(name="bench", token_env="OP_SERVICE_ACCOUNT_TOKEN")
        concurrency = settings.OP_CONCURRENCY
        print(f"fake op: {START_MS} ms per process + {LATENCY_MS} ms per request; OP_CONCURRENCY={concurrency}, "
              f"OP_ITEM_BATCH={settings.OP_ITEM_BATCH}; load average before: {os.getloadavg()[0]:.2f}")

        full = _timed_sync("full sync", account, SyncRun.Scope.FULL, log, path)
        ideal = full["requests"] * LATENCY_MS / 1000 / concurrency
        # A process start is not a request, so the ideal leaves it out; with it, every call also
        # pays START_MS (the fake's own Python start-up, ~60-130 ms of CPU, is in neither).
        with_starts = ideal + full["calls"] * START_MS / 1000 / concurrency
        full["load_after"] = round(os.getloadavg()[0], 2)
        print(f"  latency-bound ideal: {full['requests']} requests x {LATENCY_MS} ms / {concurrency} = {ideal:.0f} s "
              f"(full sync / ideal = {full['wall_s'] / ideal:.2f}, target <= 1.25); with {full['calls']} process "
              f"starts x {START_MS} ms / {concurrency}: {with_starts:.0f} s (full sync / that = "
              f"{full['wall_s'] / with_starts:.2f}); load average after: {full['load_after']:.2f}")
        if os.environ.get("BENCH_SYNC_REREAD"):
            touched = _touch_every_item(path)
            print(f"  load average before the re-read: {os.getloadavg()[0]:.2f}")
            reread = _timed_sync(f"re-read ({touched} items)", account, SyncRun.Scope.FULL, log, path)
            print(f"  re-read / full sync = {reread['wall_s'] / full['wall_s']:.2f}; "
                  f"load average after: {os.getloadavg()[0]:.2f}")
        if os.environ.get("BENCH_SYNC_FULL_ONLY"):
            return
        same = _timed_sync("nothing changed", account, SyncRun.Scope.ITEMS, log, path)
        changed = _change_one_percent(path, vaults=CHANGED_VAULTS)
        one = _timed_sync(f"1% changed ({changed} items)", account, SyncRun.Scope.ITEMS, log, path)
        print(f"  targets: nothing changed item-side {same['item_side_calls']} <= 2; "
              f"1% changed item-side {one['item_side_calls']} <= {1 + CHANGED_VAULTS + changed}")

        sample = list(Item.objects.select_related("vault").order_by("?").values_list("op_id", "vault__op_id")[:NAIVE_SAMPLE])
        counter_path(str(path)).unlink(missing_ok=True)
        per_call = _naive(path, token, sample)
        naive_calls = 1 + SIZES["vaults"] + Item.objects.filter(archived=False).count()
        naive_wall = naive_calls * per_call
        print(f"naive (one item get per item, sequential): {per_call:.3f} s per call measured on {NAIVE_SAMPLE} items -> "
              f"{naive_calls} calls = {naive_wall / 60:.0f} min per sync, whatever changed")
        print(f"  naive / full sync = {naive_wall / full['wall_s']:.1f}x (target >= 3.5); "
              f"full sync / ideal = {full['wall_s'] / ideal:.2f} (target <= 1.25)")
        print(json.dumps({"full": full, "nothing_changed": same, "one_percent": one, "ideal_s": round(ideal, 1),
                          "naive": {"calls": naive_calls, "per_call_s": round(per_call, 3),
                                    "wall_s": round(naive_wall)},
                          "naive_over_full": round(naive_wall / full["wall_s"], 2),
                          "full_over_ideal": round(full["wall_s"] / ideal, 2)}, indent=1))
    finally:
        creation.destroy_test_db(old_name, verbosity=0)
