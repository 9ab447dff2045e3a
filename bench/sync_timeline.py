"""Where a sync's wall time goes: `op` calls in flight over time, recorded by the benchmark only.

`record()` wraps `OpClient._attempt` (one attempt = one `op` process, inside its slot) and
`_Sync._phase` for the duration of a `with` block; nothing is logged by the product. `summary()`
turns the spans into the figures bench_sync prints: how long 0, 1, 2, 3 or 4+ calls were in
flight, the mean in flight per phase, and the time before the first call and after the last one
(database work, events).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Timeline:
    started: float = 0.0
    finished: float = 0.0
    spans: list[tuple[float, float, str, int]] = field(default_factory=list)  # start, end, command, requests
    phases: list[tuple[float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def record() -> Iterator[Timeline]:
    from vaults import sync
    from vaults.op.runner import OpClient

    timeline = Timeline(started=time.perf_counter())
    # One attempt inside its op slot (`_attempt`, where OpClient limits processes in flight);
    # `_run_once` where there is no such split (an older tree, for A/B runs).
    method = "_attempt" if hasattr(OpClient, "_attempt") else "_run_once"
    run_once = getattr(OpClient, method)
    phase = sync._Sync._phase

    def timed_run_once(client: OpClient, command: Any, attempt: int) -> Any:
        begun = time.perf_counter()
        try:
            return run_once(client, command, attempt)
        finally:
            with timeline.lock:
                timeline.spans.append((begun, time.perf_counter(), command.name, command.request_cost))

    def timed_phase(self: Any, name: str) -> None:
        timeline.phases.append((time.perf_counter(), name))
        phase(self, name)

    setattr(OpClient, method, timed_run_once)
    sync._Sync._phase = timed_phase  # type: ignore[method-assign]
    try:
        yield timeline
    finally:
        timeline.finished = time.perf_counter()
        setattr(OpClient, method, run_once)
        sync._Sync._phase = phase  # type: ignore[method-assign]


def _in_flight_levels(spans: list[tuple[float, float, str, int]], start: float, end: float) -> tuple[dict[int, float], float]:
    """Seconds spent at each number of calls in flight within [start, end], and the busy
    integral (call-seconds) there."""
    events = sorted([(max(s, start), 1) for s, e, _, _ in spans if e > start and s < end]
                    + [(min(e, end), -1) for s, e, _, _ in spans if e > start and s < end])
    levels: dict[int, float] = {}
    level, at, busy = 0, start, 0.0
    for moment, step in events:
        levels[min(level, 4)] = levels.get(min(level, 4), 0.0) + moment - at
        busy += level * (moment - at)
        level, at = level + step, moment
    levels[min(level, 4)] = levels.get(min(level, 4), 0.0) + end - at
    return levels, busy


def summary(timeline: Timeline, *, concurrency: int) -> dict[str, Any]:
    spans = timeline.spans
    wall = timeline.finished - timeline.started
    if not spans:
        return {"wall_s": round(wall, 1)}
    levels, busy = _in_flight_levels(spans, timeline.started, timeline.finished)
    first = min(s for s, _, _, _ in spans)
    last = max(e for _, e, _, _ in spans)
    phases = []
    bounds = [*timeline.phases, (timeline.finished, "")]
    for (begun, name), (ended, _) in itertools.pairwise(bounds):
        _, phase_busy = _in_flight_levels(spans, begun, ended)
        phases.append({"phase": name, "s": round(ended - begun, 1),
                       "mean_in_flight": round(phase_busy / (ended - begun), 2) if ended > begun else 0.0})
    by_command: dict[str, list[float]] = {}
    for s, e, name, _ in spans:
        by_command.setdefault(name, []).append(e - s)
    return {
        "wall_s": round(wall, 1),
        "mean_in_flight": round(busy / wall, 2),
        "seconds_at_in_flight": {f"{n}{'+' if n == 4 else ''}": round(levels.get(n, 0.0), 1) for n in range(5)},
        "below_concurrency_s": round(sum(v for k, v in levels.items() if k < concurrency), 1),
        "before_first_call_s": round(first - timeline.started, 1),
        "after_last_call_s": round(timeline.finished - last, 1),
        "phases": phases,
        "mean_call_s": {name: round(sum(d) / len(d), 3) for name, d in sorted(by_command.items())},
        "calls": len(spans),
    }


def print_summary(label: str, figures: dict[str, Any]) -> None:
    if "mean_in_flight" not in figures:
        return
    print(f"  {label}: mean in flight {figures['mean_in_flight']:.2f}; seconds at 0/1/2/3/4+ in flight "
          f"{'/'.join(str(v) for v in figures['seconds_at_in_flight'].values())}; before first call "
          f"{figures['before_first_call_s']} s, after last call {figures['after_last_call_s']} s")
    print("  phases: " + "; ".join(f"{p['phase']} {p['s']} s at {p['mean_in_flight']}" for p in figures["phases"]))
    print("  mean call: " + ", ".join(f"{k} {v}" for k, v in figures["mean_call_s"].items()))


@contextmanager
def sample_stacks(interval: float = 0.005) -> Iterator[dict[str, Any]]:
    """A sampling profiler for every thread of this process (cProfile sees only the calling
    thread, and the sync parses on its op threads): each sample counts, per thread kind, the
    functions on the stack (inclusive) and the innermost one (self)."""
    import sys
    from collections import Counter

    counts: dict[str, Any] = {"inclusive": Counter(), "self": Counter(), "samples": 0}
    stop = threading.Event()
    me = threading.get_ident()

    def where(frame: Any) -> str:
        code = frame.f_code
        name = code.co_filename.rsplit("/site-packages/", 1)[-1].rsplit("/main/", 1)[-1]
        return f"{name}:{code.co_name}"

    def sample() -> None:
        while not stop.wait(interval):
            names = {t.ident: t.name for t in threading.enumerate()}
            for ident, frame in sys._current_frames().items():
                if ident == me or ident == threading.get_ident():
                    continue
                kind = "op-thread" if names.get(ident, "").startswith("op") else "main"
                counts["self"][f"{kind} {where(frame)}"] += 1
                seen = set()
                current: Any = frame
                while current is not None:
                    key = f"{kind} {where(current)}"
                    if key not in seen:
                        counts["inclusive"][key] += 1
                        seen.add(key)
                    current = current.f_back
            counts["samples"] += 1

    sampler = threading.Thread(target=sample, name="sampler", daemon=True)
    sampler.start()
    try:
        yield counts
    finally:
        stop.set()
        sampler.join()
