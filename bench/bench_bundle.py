"""Evidence bundle at organisation scale: `python -m bench bundle` (or `python -m bench.bench_bundle`).

The organisation of bench_reports (bench_findings' 1,000 people x 100 vaults: 100,000 items,
200,000 usage events, plus 100,000 open findings) with its history since the quarter began (weekly
recordings, 1% of the grants changing each week), then, each in a fresh child process as on the
pdf worker (peak RSS = the child's VmHWM, see bench_reports._vm_hwm_kib):
1. the SOC 2 evidence bundle (`--format zip`: one data build feeding the archival PDF, the
   workbook, one CSV per table and the manifest) — target under 30 s and 1 GB;
2. the SOC 2 PDF artifact (PDF/A-3b, tagged, the workbook embedded), for comparison;
3. the hygiene bundle, whose findings table has all 100,000 rows in both the workbook and its CSV.

Runs in a throwaway database (`bench_bundle`, created and dropped here); PostgreSQL when
DATABASE_URL points at it (`make bench BENCH=bundle`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TARGET_S = 30.0
TARGET_BYTES = 1 << 30


def _render(kind: str, fmt: str, period_label: str, out: Path, account: str) -> dict[str, Any]:
    from django.utils import timezone

    from bench.bench_reports import _vm_hwm_kib
    from compliance.reports.builders import build_report
    from compliance.reports.bundle import write_artifact
    from compliance.reviews.periods import parse_period
    from vaults.models import Account

    stages = _time_stages()
    started, cpu = time.perf_counter(), time.process_time()
    doc = build_report(kind=kind, period=parse_period(period_label), accounts=list(Account.objects.filter(name=account)),
                       generator="bench", now=timezone.now())
    built = time.perf_counter() - started
    with out.open("wb") as handle:
        write_artifact(fmt, doc, handle, parameters={"bench": True}, basename=out.stem)
    result: dict[str, Any] = {"seconds": time.perf_counter() - started, "build_seconds": built,
                              "cpu_seconds": time.process_time() - cpu, "stages": stages,
                              "bytes": out.stat().st_size, "vmhwm_kib": _vm_hwm_kib()}
    if fmt == "zip":
        with zipfile.ZipFile(out) as archive:
            manifest = json.loads(archive.read("manifest.json"))
        csvs = [f for f in manifest["files"] if f["name"].endswith(".csv")]
        result |= {"csvs": len(csvs), "csv_rows": sum(f["rows"] for f in csvs), "members": len(manifest["files"]) + 1}
    return result


def _time_stages() -> dict[str, float]:
    """Wall time of the workbook pass (with the CSVs it feeds) and of the PDF, by wrapping the two
    renderers bundle.py calls: where the time goes, without timing code in the product."""
    from compliance.reports import bundle

    stages: dict[str, float] = {}

    def timed(name: str, render: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return render(*args, **kwargs)
            finally:
                stages[name] = stages.get(name, 0.0) + time.perf_counter() - started
        return wrapper

    bundle.render_xlsx = timed("workbook_and_csv", bundle.render_xlsx)
    bundle.render_pdf = timed("pdf", bundle.render_pdf)
    return stages


def _plant_history(period: Any, now: Any) -> dict[str, int]:
    """A quarter of history up to `now`: the state recorded an hour into the quarter, then weekly
    recordings after 1% of the grants changed their permissions, so the bundle reads access at the
    period's end and lists a quarter's access changes, as a real deployment's would."""
    import datetime
    import random

    from vaults.history import record_history
    from vaults.models import Account, VaultGrant

    account = Account.objects.get(name="bench")
    rng = random.Random(13)
    grant_ids = list(VaultGrant.objects.filter(vault__account=account).order_by("pk").values_list("pk", flat=True))
    record_history(account, at=period.start + datetime.timedelta(hours=1))
    recordings, moment = 1, period.start + datetime.timedelta(days=7)
    while moment < now:
        changed = rng.sample(grant_ids, max(1, len(grant_ids) // 100))
        VaultGrant.objects.filter(pk__in=changed[::2]).update(permissions=["allow_viewing"])
        VaultGrant.objects.filter(pk__in=changed[1::2]).update(permissions=["allow_viewing", "allow_editing"])
        record_history(account, at=moment)
        recordings, moment = recordings + 1, moment + datetime.timedelta(days=7)
    record_history(account, at=now)
    return {"history_recordings": recordings + 1, "grants": len(grant_ids)}


def _render_in_child(kind: str, fmt: str, period_label: str, out: Path) -> dict[str, Any]:
    from django.db import connection

    params = connection.settings_dict
    url = f"postgres://{params.get('USER') or 'postgres'}@{params.get('HOST') or '127.0.0.1'}:{params.get('PORT') or 5432}/{params['NAME']}"
    env = {**os.environ, "DATABASE_URL": url} if connection.vendor == "postgresql" else dict(os.environ)
    started = time.perf_counter()
    completed = subprocess.run([sys.executable, "-m", "bench.bench_bundle", "--child", kind, fmt, period_label, str(out)],
                               cwd=REPO, env=env, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = time.perf_counter() - started
    return result


def _line(label: str, result: dict[str, Any]) -> None:
    peak = result["vmhwm_kib"] * 1024
    ok = result["seconds"] < TARGET_S and peak < TARGET_BYTES
    extra = f", {result['csvs']} CSVs with {result['csv_rows']:,} rows" if "csvs" in result else ""
    stages = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result["stages"].items())
    print(f"{label:<46} {result['seconds']:7.2f} s, peak RSS {peak / 2**20:4.0f} MiB (targets < {TARGET_S:.0f} s, "
          f"< 1024 MiB) {'ok' if ok else 'OVER'}\n    CPU {result['cpu_seconds']:.1f} s of this process (the database's "
          f"is apart); build {result['build_seconds']:.2f} s, {stages}; {result['bytes'] / 2**20:.1f} MiB{extra}")


def run() -> None:
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from bench.bench_findings import _plant
    from bench.bench_reports import _plant_findings
    from compliance.reviews.periods import period_containing

    test_settings = settings.DATABASES["default"].setdefault("TEST", {})
    test_settings["NAME"] = "bench_bundle" if connection.vendor == "postgresql" else None
    creation = connection.creation
    old_name = creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False, serialize=False)
    try:
        print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
        now = timezone.now()
        period = period_containing(now).label
        started = time.perf_counter()
        planted = _plant(now)
        planted["findings"] = _plant_findings(now)
        planted |= _plant_history(period_containing(now), now)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        print(f"big organisation planted in {time.perf_counter() - started:.1f} s: "
              + ", ".join(f"{k}={v}" for k, v in planted.items()))
        connection.close()
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            _line("1. SOC 2 bundle (zip), 1,000 people x 100 vaults", _render_in_child("soc2", "zip", period, tmp / "soc2.zip"))
            _line("2. SOC 2 PDF artifact (PDF/A-3b, workbook inside)", _render_in_child("soc2", "pdf", period, tmp / "soc2.pdf"))
            _line("3. hygiene bundle (zip), 100,000 findings", _render_in_child("hygiene", "zip", period, tmp / "hygiene.zip"))
    finally:
        connection.close()
        creation.destroy_test_db(old_name, verbosity=0)


def _child(argv: list[str]) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openclaw_web.settings")
    django.setup()
    kind, fmt, period, out = argv
    print(json.dumps(_render(kind, fmt, period, Path(out), "bench")))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2:])
    else:
        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openclaw_web.settings")
        django.setup()
        run()
