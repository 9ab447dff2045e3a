"""Report generation speed and memory: `python -m bench reports` (or `python -m bench.bench_reports`).

Targets (issue 6):
1. SOC 2 PDF for the demo organisation (23 vaults, 487 items, 52 people, synced through the fake
   `op`) in under 5 s, data builder included.
2. SOC 2 PDF for 1,000 people x 100 vaults (bench_findings' organisation: 100,000 items,
   200,000 usage events, plus 100,000 open findings planted directly — the finding engine has its
   own benchmark, bench_findings) in under 60 s with peak memory under 1 GB. The render runs in a
   fresh child process (as on the pdf worker); its peak RSS is the child's VmHWM (getrusage's
   RUSAGE_CHILDREN is printed too, but Linux makes it include this parent's size).
3. Excel workbook (write-only) of the hygiene report with those 100,000 open findings in under 20 s.

Runs in a throwaway database (`bench_reports`, created and dropped here); PostgreSQL when
DATABASE_URL points at it (`make bench BENCH=reports`).
"""

from __future__ import annotations

import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TARGET_DEMO_PDF_S = 5.0
TARGET_BIG_PDF_S = 60.0
TARGET_BIG_PDF_BYTES = 1 << 30
TARGET_XLSX_S = 20.0
N_FINDINGS = 100_000


def _render(kind: str, fmt: str, period_label: str, out: Path, account: str | None = None) -> dict[str, Any]:
    from django.utils import timezone

    from compliance.reports.builders import build_report
    from compliance.reports.pdf import render_pdf
    from compliance.reports.xlsx import render_xlsx
    from compliance.reviews.periods import parse_period
    from vaults.models import Account

    started = time.perf_counter()
    accounts = list(Account.objects.filter(name=account)) if account else None
    doc = build_report(kind=kind, period=parse_period(period_label), accounts=accounts, generator="bench",
                       now=timezone.now())
    built = time.perf_counter() - started
    if fmt == "pdf":
        out.write_bytes(render_pdf(doc))
    else:
        render_xlsx(doc, out)
    return {"seconds": time.perf_counter() - started, "build_seconds": built, "bytes": out.stat().st_size,
            "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "vmhwm_kib": _vm_hwm_kib()}


def _vm_hwm_kib() -> int:
    """Peak resident set of this process image. Unlike ru_maxrss, which Linux carries over from the
    parent across fork+exec (so a child of this 1 GB benchmark would report at least that), VmHWM
    starts afresh at exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _render_in_child(kind: str, fmt: str, period_label: str, out: Path, account: str | None) -> dict[str, Any]:
    from django.db import connection

    params = connection.settings_dict
    url = f"postgres://{params.get('USER') or 'postgres'}@{params.get('HOST') or '127.0.0.1'}:{params.get('PORT') or 5432}/{params['NAME']}"
    env = {**os.environ, "DATABASE_URL": url} if connection.vendor == "postgresql" else dict(os.environ)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    completed = subprocess.run([sys.executable, "-m", "bench.bench_reports", "--child", kind, fmt, period_label, str(out),
                                account or ""], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = wall
    result["children_maxrss_kib"] = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return result


def _sync_demo(tmp: Path) -> str:
    from django.conf import settings
    from django.utils import timezone

    from vaults import sync
    from vaults.fake_op import account as fake_account
    from vaults.fake_op.demo import generate_organisation
    from vaults.fake_op.events_server import start_events_server
    from vaults.findings.engine import compute_findings
    from vaults.models import Account, SyncRun

    data = generate_organisation(now=timezone.now())
    path = tmp / "demo.json"
    path.write_text(json.dumps(data))
    data = fake_account.load(path)
    url, stop = start_events_server(str(path))
    os.environ.update(FAKE_OP_ACCOUNT=str(path), FAKE_OP_CALL_LOG=str(tmp / "calls.jsonl"),
                      OP_SERVICE_ACCOUNT_TOKEN=data["tokens"][0]["token"], OP_EVENTS_TOKEN=data["events_token"])
    settings.OP_BIN = str(REPO / "bin" / "fake-op")
    try:
        account = Account.objects.create(name="demo", events_url=url, events_token_env="OP_EVENTS_TOKEN")
        run, _ = sync.start_sync(account=account, scope=SyncRun.Scope.FULL)
        run = sync.run_sync(sync_run_id=run.pk)
        if run.status != SyncRun.Status.SUCCEEDED:
            raise RuntimeError(f"demo sync failed: {run.error}")
        compute_findings(account=account, sync_run=run)
    finally:
        stop()
    return account.name


def _plant_findings(now: datetime.datetime) -> int:
    """N_FINDINGS open findings of the item kinds over the big account's items, and a snapshot."""
    from vaults.findings.models import Finding, HealthSnapshot
    from vaults.models import Account, Item

    account = Account.objects.get(name="bench")
    kinds = [("weak", "high", 3), ("overdue_rotation", "medium", 2), ("unclear_name", "low", 1),
             ("missing_metadata", "low", 1), ("orphaned", "medium", 2), ("rotation_due_soon", "low", 1)]
    items = list(Item.objects.filter(vault__account=account).values_list("pk", "vault_id", "title"))
    rows = []
    for n in range(N_FINDINGS):
        pk, vault_id, title = items[n % len(items)]
        kind, severity, rank = kinds[n % len(kinds)]
        rows.append(Finding(account=account, kind=kind, severity=severity, severity_rank=rank, vault_id=vault_id,
                            item_id=pk, key=f"bench:{n}", title=f"{kind}: {title}",
                            explanation=f"The secret of “{title}” was last changed 400 days ago; the policy asks for 90.",
                            recommended_action="Rotate the secret at its source and update the item.",
                            details={"changed_at": "2025-01-01", "age_days": 400, "period_days": 90},
                            first_seen=now - datetime.timedelta(days=n % 400), last_seen=now))
    Finding.objects.bulk_create(rows, batch_size=5000)
    HealthSnapshot.objects.create(account=account, taken_at=now, score=41, items=len(items))
    return Finding.objects.filter(account=account, status="open").count()


def _line(label: str, seconds: float, target: float, extra: str = "") -> None:
    verdict = "ok" if seconds < target else "SLOW"
    print(f"{label:<44} {seconds:7.2f} s (target < {target:.0f} s) {verdict}{'  ' + extra if extra else ''}")


def run() -> None:
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from compliance.reviews.periods import period_containing

    test_settings = settings.DATABASES["default"].setdefault("TEST", {})
    test_settings["NAME"] = "bench_reports" if connection.vendor == "postgresql" else None
    creation = connection.creation
    old_name = creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False, serialize=False)
    settings.MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="bench-media-"))
    try:
        print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
        now = timezone.now()
        period = period_containing(now).label
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            started = time.perf_counter()
            demo = _sync_demo(tmp)
            print(f"demo organisation synced in {time.perf_counter() - started:.1f} s")
            result = _render("soc2", "pdf", period, tmp / "demo.pdf", demo)
            _line("1. SOC 2 PDF, demo organisation (in-process)", result["seconds"], TARGET_DEMO_PDF_S,
                  f"build {result['build_seconds']:.2f} s, {result['bytes'] / 1024:.0f} KiB")

            from bench.bench_findings import _plant

            started = time.perf_counter()
            planted = _plant(now)
            planted["findings"] = _plant_findings(now)
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
            print(f"big organisation planted in {time.perf_counter() - started:.1f} s: "
                  + ", ".join(f"{k}={v}" for k, v in planted.items()))
            connection.close()
            result = _render_in_child("soc2", "pdf", period, tmp / "big.pdf", "bench")
            peak = result["vmhwm_kib"] * 1024
            _line("2. SOC 2 PDF, 1,000 people x 100 vaults (child)", result["seconds"], TARGET_BIG_PDF_S,
                  f"build {result['build_seconds']:.2f} s, process {result['wall_seconds']:.1f} s, peak RSS {peak / 2**20:.0f} MiB "
                  f"({'ok' if peak < TARGET_BIG_PDF_BYTES else 'OVER'} < 1024 MiB; getrusage(RUSAGE_CHILDREN) "
                  f"{result['children_maxrss_kib'] / 1024:.0f} MiB includes this parent), {result['bytes'] / 1024:.0f} KiB")

            # In a child as well: as on a worker, and clear of the ~1 GB of rows this process planted
            # (Python's garbage collector scanning them tripled the time in-process).
            result = _render_in_child("hygiene", "xlsx", period, tmp / "findings.xlsx", "bench")
            _line(f"3. Excel, {planted['findings']:,} open findings (write-only, child)", result["seconds"],
                  TARGET_XLSX_S, f"build {result['build_seconds']:.2f} s, {result['bytes'] / 2**20:.1f} MiB, "
                  f"peak RSS {result['vmhwm_kib'] / 1024:.0f} MiB")
    finally:
        connection.close()
        creation.destroy_test_db(old_name, verbosity=0)


def _child(argv: list[str]) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openclaw_web.settings")
    django.setup()
    kind, fmt, period, out, account = argv
    print(json.dumps(_render(kind, fmt, period, Path(out), account or None)))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2:])
    else:
        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openclaw_web.settings")
        django.setup()
        run()
