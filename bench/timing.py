"""Timing shared by the page benchmarks (bench_findings_list, bench_lists)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from django.test import Client

REPEAT = 7


def timed(fn: Callable[[], object], repeat: int = REPEAT) -> tuple[float, float]:
    """(median, p95) milliseconds of `repeat` calls, after one warm-up call (plans and caches, as
    a served page would have them)."""
    fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(int(len(samples) * 0.95) - 1, 0)]


def get(client: Client, url: str, *, htmx: bool = True) -> Callable[[], object]:
    """A request for `url` (its htmx table unless `htmx` is False) that must answer 200."""

    def request() -> object:
        response = client.get(url, headers={"HX-Request": "true"} if htmx else {})
        assert response.status_code == 200, (url, response.status_code)
        return response

    return request
