"""Excel at scale: `make bench BENCH=xlsx` (issue #17 item 7: <= 8 s for 100,000 findings, memory flat).

Renders the hygiene report workbook (its "Open findings" sheet holds every open finding) for an
account with 10,000 and one with 100,000 planted open findings, each in a fresh child process as on
a worker; prints seconds (data build included) and the child's peak RSS (VmHWM). Flat memory means
the 100k peak is close to the 10k peak: rows stream from a server-side cursor into the file.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from pathlib import Path

TARGET_S = 8.0


def _render_in_child(period: str, out: Path, account: str) -> dict[str, float]:
    """bench_reports' child run, plus the child's CPU seconds: on a shared machine wall time
    measures the other jobs as much as this one."""
    from bench.bench_reports import _render_in_child as render

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = render("hygiene", "xlsx", period, out, account)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result["cpu_seconds"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result


def run() -> None:
    from django.utils import timezone

    from bench.big_org import DATABASE, bench_database, plant_all
    from compliance.reviews.periods import period_containing

    with bench_database(DATABASE, plant_all), tempfile.TemporaryDirectory() as tmp:
        period = period_containing(timezone.now()).label
        peaks = {}
        for account, n in (("xlsx10k", 10_000), ("xlsx100k", 100_000)):
            started = time.perf_counter()
            result = _render_in_child(period, Path(tmp) / f"{account}.xlsx", account)
            peaks[n] = result["vmhwm_kib"] / 1024
            verdict = "ok" if result["seconds"] <= TARGET_S else "SLOW"
            print(f"Excel, {n:>7,} open findings: {result['seconds']:6.2f} s (build {result['build_seconds']:.2f} s, "
                  f"process {time.perf_counter() - started:.1f} s wall, {result['cpu_seconds']:.1f} s CPU incl. start-up) target <= {TARGET_S:.0f} s {verdict}; "
                  f"{result['bytes'] / 2**20:.1f} MiB; peak RSS {peaks[n]:.0f} MiB")
        print(f"peak RSS growth 10k -> 100k: {peaks[100_000] - peaks[10_000]:+.0f} MiB; load average {os.getloadavg()}")


if __name__ == "__main__":
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openclaw_web.settings")
    django.setup()
    run()
