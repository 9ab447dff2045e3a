"""Pages and API under load at organisation scale, with a sync running (issue 4 and issue 7).

1. Plant 100,000 items / 1,000 people / 100 vaults in a throwaway database (`bench_load`) with
   `bench_findings._plant`, ANALYZE, compute findings.
2. Sign in a team lead (session cookie) and create an API token for them.
3. Start gunicorn on loopback with gunicorn.conf.py (the production settings: workers, threads,
   worker class, keep-alive; env WEB_WORKERS / WEB_THREADS) with DEBUG=0, HTTPS=0 and Redis for
   the page fragments (openclaw_web/fragment_cache.py), as in production.
4. Issue 4: drive its three pages — dashboard, findings list (filtered), vault detail — with 16
   concurrent connections (wrk, one process per URL, 6 + 5 + 5) for 60 s with nothing else
   running; the target is p95 < 200 ms for each.
5. Issue 7: start `manage.py sync` of a generated organisation (2,000 items, fake `op` with 50 ms
   latency) in the same database, again and again, and drive the three pages and the API with
   4 connections each: writes, locks and CPU compete; each finished sync and findings run moves
   the data versions (openclaw_web/data_versions.py), so the fragments render afresh then.
6. Print README-ready tables; for a page whose p95 misses the target, print its slowest queries
   (from a profiled in-process request) to say which query and which index.

Comparing server configurations (issue #17 item 8, docs/operations.md "Web server"):
`BENCH_LOAD_CONFIGS="2x1,2x4,4x1,4x2,3x4"` (workers x threads) runs step 4 once per configuration
on the same planted database, each on a fresh gunicorn and an emptied fragment cache, and prints
one table: latencies per page, requests/s, errors, gunicorn's CPU per request (master and workers,
user + system), the whole machine's busy CPU per request (PostgreSQL, Redis and wrk included) and
the peak memory of the gunicorn processes (RSS summed, which counts pages shared after fork once
per process, and PSS, which splits them). `BENCH_LOAD_SYNC_CONFIGS="4x2,3x4"` adds step 5 for
those configurations; without it a comparison skips step 5. `BENCH_LOAD_SECONDS` sets the
duration per run (default 60). `BENCH_LOAD_CHURN=1` changes 1% of the synced organisation's items
before each sync (bench/churn.py), so every sync has changes to write. `BENCH_KEEPDB=1` keeps `bench_load` (or `BENCH_LOAD_DB`) and reuses its
plant. The fragment cache's hit rate is printed after each run (FRAGMENT_CACHE_STATS counters).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

REPO_ROOT = Path(__file__).resolve().parent.parent
DURATION_SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS") or 60)
CONNECTIONS = 16
TARGET_P95_MS = 200
# Workers, threads and keep-alive come from gunicorn.conf.py (the production file); a comparison
# overrides workers and threads through its environment variables.
GUNICORN_CONFIG = REPO_ROOT / "gunicorn.conf.py"
SYNC_ORG: dict[str, Any] = {"vaults": 20, "items": 2000, "users": 60, "groups": 8}
SYNC_LATENCY_MS = 50
# BENCH_LOAD_CHURN=1: before each sync, 1% of the synced organisation's items change (bench/churn.py),
# so every sync writes items and the findings run recomputes; without it, only the first sync does.
CHURN_PERCENT = float(os.environ.get("BENCH_LOAD_CHURN") or 0)

WRK_SCRIPT = r"""
wrk.headers[os.getenv("BENCH_HEADER_NAME")] = os.getenv("BENCH_HEADER_VALUE")
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_RESULT {\"requests\": %d, \"errors\": %d, \"p50\": %.1f, \"p95\": %.1f, \"p99\": %.1f, \"max\": %.1f}\n",
    summary.requests, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
"""


@dataclass
class Target:
    name: str
    path: str
    header: tuple[str, str]
    gated: bool  # has a p95 target


@dataclass(frozen=True)
class ServerConfig:
    workers: int
    threads: int

    @property
    def label(self) -> str:
        return f"{self.workers}x{self.threads}"

    @property
    def env(self) -> dict[str, str]:
        return {"WEB_WORKERS": str(self.workers), "WEB_THREADS": str(self.threads)}


def parse_configs(text: str) -> list[ServerConfig]:
    """ "2x1,4x2" -> [ServerConfig(2, 1), ServerConfig(4, 2)]; "" -> []."""
    configs = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        workers, sep, threads = part.lower().partition("x")
        if not sep or not workers.isdigit() or not threads.isdigit() or int(workers) < 1 or int(threads) < 1:
            raise ValueError(f"{part!r} is not WORKERSxTHREADS (e.g. 4x2)")
        configs.append(ServerConfig(int(workers), int(threads)))
    return configs


@dataclass
class Usage:
    """What the server consumed during one wrk run."""

    cpu_seconds: float = 0.0  # gunicorn master + workers, user + system
    machine_busy_seconds: float = 0.0  # every process on the machine
    peak_rss: int = 0  # bytes, summed over gunicorn's processes
    peak_pss: int = 0
    samples: list[int] = field(default_factory=list)


def _tree(root: int) -> list[int]:
    """`root` and its children (gunicorn's master and its workers)."""
    pids = [root]
    try:
        children = Path(f"/proc/{root}/task/{root}/children").read_text().split()
    except OSError:
        return pids
    return pids + [int(c) for c in children]


def _cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


def _memory(pids: list[int]) -> tuple[int, int]:
    rss = pss = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
        except OSError:
            continue
    return rss, pss


def _machine_busy_ticks() -> int:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(values) - values[3] - values[4]  # all but idle and iowait


@contextmanager
def _measure(server: subprocess.Popen[bytes]) -> Iterator[Usage]:
    """CPU and peak memory of gunicorn (and the machine's busy CPU) while the block runs."""
    import threading

    usage = Usage()
    tick = os.sysconf("SC_CLK_TCK")
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.5):
            rss, pss = _memory(_tree(server.pid))
            usage.peak_rss, usage.peak_pss = max(usage.peak_rss, rss), max(usage.peak_pss, pss)

    sampler = threading.Thread(target=sample, daemon=True)
    cpu_before, busy_before = _cpu_ticks(_tree(server.pid)), _machine_busy_ticks()
    sampler.start()
    try:
        yield usage
    finally:
        stop.set()
        sampler.join()
        usage.cpu_seconds = (_cpu_ticks(_tree(server.pid)) - cpu_before) / tick
        usage.machine_busy_seconds = (_machine_busy_ticks() - busy_before) / tick


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _database_url() -> str:
    params = connection.settings_dict
    return (f"postgres://{params.get('USER') or 'postgres'}@{params.get('HOST') or '127.0.0.1'}:"
            f"{params.get('PORT') or 5432}/{params['NAME']}")  # fmt: skip


def _prepare(now: datetime) -> tuple[Any, str, str]:
    """Plant (unless a kept database holds the plant), compute findings, and return
    (team lead, session cookie, API token or "")."""
    from bench.bench_findings import _plant
    from vaults.findings.engine import compute_findings
    from vaults.findings.models import Finding
    from vaults.models import Account

    if Finding.objects.filter(account__name="bench").exists():  # BENCH_KEEPDB: planted by an earlier run
        print("reusing the kept bench_load database (BENCH_KEEPDB=1): no planting")
        return _sign_in(_lead())
    started = time.perf_counter()
    if Account.objects.filter(name="bench").exists():  # a kept plant whose findings run was cut short
        print("reusing the kept plant (BENCH_KEEPDB=1): computing its findings")
    else:
        planted = _plant(now)
        print(f"planted in {time.perf_counter() - started:.1f} s: " + ", ".join(f"{k}={v}" for k, v in planted.items()))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    started = time.perf_counter()
    summary = compute_findings(account=Account.objects.get(name="bench"), now=now)
    print(f"findings computed in {time.perf_counter() - started:.1f} s: created={summary.created}")
    # What autovacuum does in production after the first findings run inserted 134k rows (it is
    # off on this machine's PostgreSQL): without it an uncached page's counts read the heap.
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return _sign_in(_lead())


def _lead() -> Any:
    from django.contrib.auth.models import Group, User

    from openclaw_web.roles import Role

    lead = User.objects.filter(username="bench_lead").first() or User.objects.create_user(
        "bench_lead", password="bench-load-password-1")  # fmt: skip
    lead.groups.add(Group.objects.get_or_create(name=Role.TEAM_LEAD.value)[0])
    return lead


def _sign_in(lead: Any) -> tuple[Any, str, str]:
    from django.test import Client

    client = Client()
    client.force_login(lead)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    token = ""
    try:
        from openclaw_web.tokens import create_token

        _, token = create_token(user=lead, name="bench")
    except ImportError:
        print("note: no API tokens in this build; the API is driven with the session cookie")
    return lead, cookie, token


def _fresh_cache() -> str:
    """Redis for the page fragments, as in production, emptied (BENCH_CACHE_URL, default db 13)."""
    import redis

    url = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/13")
    redis.Redis.from_url(url).flushdb()
    return url


def _cache_outcomes() -> str:
    """How the fragments were served since the last call (FRAGMENT_CACHE_STATS counters), then reset."""
    import redis

    client = redis.Redis.from_url(os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/13"))
    keys = [key.decode() if isinstance(key, bytes) else str(key) for key in client.keys("*fragment-stats:*")]
    counts = {key.rsplit(":", 1)[-1]: int(client.get(key) or 0) for key in keys}
    if keys:
        client.delete(*keys)
    total = sum(counts.values())
    if not total:
        return "fragment cache: no fragment served"
    served = total - counts.get("rendered", 0)
    detail = ", ".join(f"{name} {n:,}" for name, n in sorted(counts.items()))
    return f"fragment cache: hit rate {served / total:.1%} of {total:,} fragments ({detail})"


def _start_sync_loop(tmp: Path, db_url: str, base_env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A shell loop running `manage.py sync` of a generated organisation until killed."""
    from vaults.fake_op import account as fake_account
    from vaults.fake_op.demo import generate_organisation
    from vaults.models import Account, SyncRun
    from vaults.sync import ACTIVE

    data = generate_organisation(now=datetime.now(UTC), seed=7, **SYNC_ORG)
    path = tmp / "sync-org.json"
    fake_account.save(path, data)
    Account.objects.get_or_create(name="bench-sync", defaults={"token_env": "OP_SERVICE_ACCOUNT_TOKEN"})
    # An earlier loop (another configuration, a kept database) was killed mid-sync: its run would
    # still hold the account's claim and every new sync would wait on it.
    SyncRun.objects.filter(account__name="bench-sync", status__in=ACTIVE).update(status=SyncRun.Status.FAILED)
    env = {**base_env, "FAKE_OP_ACCOUNT": str(path), "FAKE_OP_LATENCY_MS": str(SYNC_LATENCY_MS),
           "OP_SERVICE_ACCOUNT_TOKEN": data["tokens"][0]["token"], "OP_BIN": str(REPO_ROOT / "bin" / "fake-op")}  # fmt: skip
    churn = f'"{sys.executable}" -m bench.churn "{path}" {CHURN_PERCENT}; ' if CHURN_PERCENT else ""
    loop = f'while true; do {churn}"{sys.executable}" manage.py sync --account bench-sync; done'
    return subprocess.Popen(["bash", "-c", loop], cwd=REPO_ROOT, env=env, stdout=(tmp / "sync.log").open("wb"),
                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip


def _start_gunicorn(tmp: Path, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "openclaw_web.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--config", str(GUNICORN_CONFIG)],
        cwd=REPO_ROOT, env=env, stdout=(tmp / "gunicorn.log").open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2)
            return process
        except (urllib.error.URLError, OSError):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start:\n" + (tmp / "gunicorn.log").read_text()[-3000:]) from None
            time.sleep(0.3)


def _status(url: str, header: tuple[str, str]) -> int:
    request = urllib.request.Request(url, headers={header[0]: header[1]})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    try:
        return int(urllib.request.build_opener(NoRedirect).open(request, timeout=30).status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def _targets(base: str, cookie: str, token: str) -> list[Target]:
    from vaults.models import Vault

    vault = Vault.objects.filter(account__name="bench").order_by("pk").first()
    assert vault is not None
    session = ("Cookie", cookie)
    targets = [
        Target("dashboard", "/", session, True),
        Target("findings list (kind=weak, severity=high)", "/findings/?kind=weak&severity=high", session, True),
        Target(f"vault detail ({vault.items.count():,} items)", f"/vaults/{vault.pk}/", session, True),
    ]
    if _status(base + "/api/v1/openapi.json", session) == 200:
        auth = ("Authorization", f"Bearer {token}") if token else session
        targets.append(Target("API findings (kind=duplicate)", "/api/v1/findings?kind=duplicate", auth, False))
    else:
        print("note: /api/v1/openapi.json does not answer: the API is not part of this run")
    return targets


def _run_wrk(base: str, targets: list[Target], tmp: Path) -> dict[str, dict[str, float]]:
    script = tmp / "bench.lua"
    script.write_text(WRK_SCRIPT)
    # CONNECTIONS in all, split as evenly as the targets allow (16 over 3: 6, 5, 5).
    shares = [CONNECTIONS // len(targets) + (n < CONNECTIONS % len(targets)) for n in range(len(targets))]
    processes = []
    for target, share in zip(targets, shares, strict=True):
        env = {**os.environ, "BENCH_HEADER_NAME": target.header[0], "BENCH_HEADER_VALUE": target.header[1]}
        processes.append(subprocess.Popen(
            ["wrk", "-t1", f"-c{share}", f"-d{DURATION_SECONDS}s", "--timeout", "10s", "-s", str(script),
             base + target.path],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        ))  # fmt: skip
    results = {}
    for target, process in zip(targets, processes, strict=True):
        output, _ = process.communicate()
        line = next((ln for ln in output.splitlines() if ln.startswith("BENCH_RESULT ")), None)
        if line is None:
            raise RuntimeError(f"wrk gave no result for {target.path}:\n{output}")
        results[target.name] = json.loads(line.removeprefix("BENCH_RESULT "))
    return results


def _profile(path: str, user: Any) -> None:
    """The slowest queries of one in-process request, for a page over its target."""
    from django.db import reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        client.get(path, secure=True)  # the bench process itself may run with HTTPS on
        elapsed = (time.perf_counter() - started) * 1000
    print(f"   profile {path}: {elapsed:.0f} ms in-process, {len(captured.captured_queries)} queries; slowest:")
    for query in sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:2]:
        print(f"     {float(query['time']) * 1000:7.1f} ms  {query['sql'][:400]}")
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN ANALYZE " + query["sql"]) if "%s" not in query["sql"] else None
            plan = cursor.fetchall() if cursor.description else []
        for row in plan[:14]:
            print(f"        {row[0]}")


def _verdicts(targets: list[Target], results: dict[str, dict[str, Any]], lead: Any) -> None:
    print()
    for target in targets:
        r = results[target.name]
        verdict = "  OK" if r["p95"] < TARGET_P95_MS else f"  MISSES p95 < {TARGET_P95_MS} ms"
        if r["errors"]:
            verdict += f"  {r['errors']} ERRORS"
        print(f"{target.name}: p95 {r['p95']:.0f} ms{verdict}")
        if r["p95"] >= TARGET_P95_MS:
            _profile(target.path, lead)


def _print_table(targets: list[Any], results: dict[str, dict[str, Any]], condition: str) -> None:
    print()
    print(f"| URL (100,000 items, {CONNECTIONS} clients, {DURATION_SECONDS} s, {condition}) | requests | errors | p50 ms | p95 ms | p99 ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for target in targets:
        r = results[target.name]
        print(f"| {target.name} `{target.path}` | {r['requests']:,} | {r['errors']} | {r['p50']:.0f} | {r['p95']:.0f} | {r['p99']:.0f} |")


def _server_env() -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": _database_url(), "DEBUG": "0", "HTTPS": "0", "ALLOWED_HOSTS": "127.0.0.1",
           "SECRET_KEY": settings.SECRET_KEY, "FINGERPRINT_KEY": settings.FINGERPRINT_KEY,
           "CACHE_URL": _fresh_cache(), "FRAGMENT_CACHE_STATS": "1"}  # fmt: skip
    env.pop("CELERY_BROKER_URL", None)
    return env


def _stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        os.killpg(child.pid, signal.SIGTERM)
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()


def _check_targets(base: str, targets: list[Target]) -> None:
    for target in targets:
        status = _status(base + target.path, target.header)
        if status != 200:
            raise RuntimeError(f"{target.path} answers {status}, not 200: fix the benchmark's sign-in first")


@dataclass
class Outcome:
    config: ServerConfig
    results: dict[str, dict[str, Any]]
    usage: Usage

    @property
    def requests(self) -> int:
        return sum(int(r["requests"]) for r in self.results.values())


def _compare(configs: list[ServerConfig], cookie: str, token: str, tmp: Path, *, sync: bool) -> list[Outcome]:
    """Each configuration on a fresh gunicorn and an emptied cache; with `sync`, a sync loop runs."""
    outcomes = []
    for config in configs:
        env = {**_server_env(), **config.env}
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = _start_gunicorn(tmp, port, env)
        syncing = None
        try:
            targets = _targets(base, cookie, token)
            _check_targets(base, targets)
            if sync:
                syncing = _start_sync_loop(tmp, env["DATABASE_URL"], env)
                time.sleep(3)  # the sync is under way before the clients start
            else:
                targets = [t for t in targets if t.gated]
            condition = "sync running" if sync else "idle"
            print(f"gunicorn {config.label} ({condition}): {DURATION_SECONDS} s ...", flush=True)
            with _measure(server) as usage:
                results = _run_wrk(base, targets, tmp)
            outcomes.append(Outcome(config, results, usage))
        finally:
            if syncing is not None:
                _stop(syncing)
            _stop(server)
    return outcomes


def _print_comparison(outcomes: list[Outcome], condition: str, load_before: float) -> None:
    names = list(outcomes[0].results)
    short = {name: name.split(" (")[0] for name in names}
    print()
    print(f"{condition}: {CONNECTIONS} connections, {DURATION_SECONDS} s per configuration, "
          f"{os.cpu_count()} cores, load average before {load_before:.2f}, after {os.getloadavg()[0]:.2f}")  # fmt: skip
    header = "| workers x threads | " + " | ".join(f"{short[n]} p50 / p95 / p99 ms" for n in names)
    print(header + " | requests/s | errors | gunicorn CPU ms/req | machine CPU ms/req | peak RSS / PSS MiB |")
    print("| --- | " + " | ".join("---:" for _ in names) + " | ---: | ---: | ---: | ---: | ---: |")
    for outcome in outcomes:
        cells = [f"{r['p50']:.0f} / {r['p95']:.0f} / {r['p99']:.0f}" for r in (outcome.results[n] for n in names)]
        requests = max(outcome.requests, 1)
        errors = sum(int(r["errors"]) for r in outcome.results.values())
        usage = outcome.usage
        print(f"| {outcome.config.label} ({'gthread' if outcome.config.threads > 1 else 'sync'}) | " + " | ".join(cells)
              + f" | {outcome.requests / DURATION_SECONDS:,.0f} | {errors} | {usage.cpu_seconds * 1000 / requests:.1f}"
              f" | {usage.machine_busy_seconds * 1000 / requests:.1f}"
              f" | {usage.peak_rss / 2**20:,.0f} / {usage.peak_pss / 2**20:,.0f} |")  # fmt: skip


def run() -> None:
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk); skipping the load benchmark")
        return
    configs = parse_configs(os.environ.get("BENCH_LOAD_CONFIGS", ""))
    sync_configs = parse_configs(os.environ.get("BENCH_LOAD_SYNC_CONFIGS", ""))
    keep = os.environ.get("BENCH_KEEPDB") == "1"
    test_settings = settings.DATABASES["default"].setdefault("TEST", {})
    # BENCH_LOAD_DB: a database of one's own where several people bench on one server.
    test_settings["NAME"] = os.environ.get("BENCH_LOAD_DB") or "bench_load"
    if connection.vendor != "postgresql":
        print("the load benchmark needs PostgreSQL: set DATABASE_URL")
        return
    creation = connection.creation
    old_name = creation.create_test_db(verbosity=0, autoclobber=not keep, keepdb=keep, serialize=False)
    children: list[subprocess.Popen[bytes]] = []
    try:
        tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
        lead, cookie, token = _prepare(timezone.now())
        if configs or sync_configs:
            print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
            if configs:
                load = os.getloadavg()[0]
                _print_comparison(_compare(configs, cookie, token, tmp, sync=False), "idle, issue 4's three pages", load)
            if sync_configs:
                load = os.getloadavg()[0]
                _print_comparison(_compare(sync_configs, cookie, token, tmp, sync=True),
                                  "a sync running, the three pages and the API (4 connections each)", load)  # fmt: skip
            print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
            return
        env = _server_env()
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        children.append(_start_gunicorn(tmp, port, env))
        targets = _targets(base, cookie, token)
        _check_targets(base, targets)
        # Issue 4's figure: its three pages alone. Issue 7's: those and the API while a sync runs.
        pages = [t for t in targets if t.gated]
        print(f"driving {CONNECTIONS} connections for {DURATION_SECONDS} s, the pages only, no sync running")
        _cache_outcomes()
        quiet = _run_wrk(base, pages, tmp)
        _print_table(pages, quiet, "no sync")
        print(_cache_outcomes())
        print(f"load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        _verdicts(pages, quiet, lead)
        loop_started = timezone.now()  # a kept database holds earlier runs' syncs: list only this run's
        children.append(_start_sync_loop(tmp, env["DATABASE_URL"], env))
        time.sleep(3)  # the sync is under way before the clients start
        print(f"driving {CONNECTIONS} connections for {DURATION_SECONDS} s with a sync running "
              f"(gunicorn as gunicorn.conf.py sets it)")  # fmt: skip
        _cache_outcomes()
        results = _run_wrk(base, targets, tmp)
        print(_cache_outcomes())
        print(f"load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        from vaults.models import SyncRun

        runs = SyncRun.objects.filter(account__name="bench-sync", created_at__gte=loop_started)
        print("syncs during the run: " + ", ".join(f"#{r.pk} {r.status} items_fetched={r.counts.get('items_fetched', 0)}"
                                                  for r in runs.order_by("pk")))  # fmt: skip
        _print_table(targets, results, "sync running")
        errors = sum(r["errors"] for r in results.values())
        print(f"with a sync running: {errors} errors (each finished sync and findings run moves the data versions)")
    finally:
        for child in children:
            _stop(child)
        connection.close()
        if not keep:
            creation.destroy_test_db(old_name, verbosity=0)
