"""`CallPool`: the one pool a sync's op calls share — which queued job a free thread takes, jobs
added while results are read, and what a failure leaves running."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial

import pytest

from vaults import sync_pool
from vaults.sync_pool import DETAILS, LISTING, PEOPLE, CallPool


def blocker(gate: threading.Event, started: threading.Event) -> Callable[[], str]:
    def job() -> str:
        started.set()
        assert gate.wait(10)
        return "first"

    return job


def test_a_free_thread_takes_listings_then_details_then_people_whatever_order_they_were_queued_in() -> None:
    pool = CallPool(threads=1)
    gate, started = threading.Event(), threading.Event()
    order: list[str] = []
    pool.add(DETAILS, blocker(gate, started))
    assert started.wait(10)  # the one thread is busy: everything below waits in the queue
    for priority, name in [(PEOPLE, "grants"), (DETAILS, "batch 1"), (LISTING, "item list"), (DETAILS, "batch 2")]:
        pool.add(priority, partial(order.append, name))
    gate.set()

    try:
        results = list(pool.results())
    finally:
        pool.close()

    # Equal priorities keep their order (batch 1 before batch 2): the decoy for "sorted by name".
    assert order == ["item list", "batch 1", "batch 2", "grants"]
    assert sorted(map(str, results)) == ["None"] * 4 + ["first"]


def test_jobs_added_while_results_are_read_are_waited_for_too() -> None:
    pool = CallPool(threads=2)
    pool.add(LISTING, lambda: "listing")
    seen = []
    try:
        for result in pool.results():
            seen.append(result)
            if result == "listing":
                pool.add(DETAILS, lambda: "details of the listed vault")
    finally:
        pool.close()

    assert seen == ["listing", "details of the listed vault"]


def test_a_failed_job_is_raised_and_closing_drops_the_queued_ones_unrun() -> None:
    pool = CallPool(threads=1)
    gate, started = threading.Event(), threading.Event()
    ran: list[str] = []

    def failing() -> None:
        started.set()
        assert gate.wait(10)
        raise RuntimeError("op failed for good")

    pool.add(LISTING, failing)
    assert started.wait(10)
    pool.add(DETAILS, lambda: ran.append("queued behind the failure"))
    gate.set()

    with pytest.raises(RuntimeError, match="op failed for good"):
        for _ in pool.results():
            pass
    pool.close()

    assert ran == []


def test_after_a_failure_the_pool_says_stop_and_reports_the_first_failure_not_its_consequences() -> None:
    """The first failure is raised; a job failing later (OpStopped from the op client, once the
    pool said stop) is not reported in its place. Decoy: a pool whose jobs all succeed never
    says stop, so the client stays usable after a good read."""
    pool = CallPool(threads=2)
    gate, started = threading.Event(), threading.Event()

    def later_failure() -> str:
        started.set()
        assert gate.wait(10)
        raise RuntimeError("a consequence")

    def first_failure() -> str:
        assert started.wait(10)
        raise ValueError("the cause")

    pool.add(DETAILS, later_failure)
    pool.add(DETAILS, first_failure)
    with pytest.raises(ValueError, match="the cause"):
        for _ in pool.results():
            pass
    assert pool.stopped.is_set()
    gate.set()
    pool.close()  # the later failure finishes here, silently

    good = CallPool(threads=2)
    good.add(LISTING, lambda: "listing")
    assert list(good.results()) == ["listing"]
    good.close()
    assert not good.stopped.is_set()


def test_while_no_result_comes_the_caller_is_called_back_to_record_its_heartbeat(monkeypatch) -> None:
    """A sync waiting on a hung op must not look abandoned (vaults/sync.py STALE_AFTER): every
    IDLE_SECONDS without a result, `idle` runs on the caller's thread. Decoy: results that come
    quickly call it never."""
    monkeypatch.setattr(sync_pool, "IDLE_SECONDS", 0.05)
    pool = CallPool(threads=1)
    gate, started = threading.Event(), threading.Event()
    pool.add(DETAILS, blocker(gate, started))
    beats: list[str] = []

    def idle() -> None:
        beats.append(threading.current_thread().name)
        if len(beats) == 3:
            gate.set()

    try:
        results = list(pool.results(idle=idle))
    finally:
        pool.close()

    assert results == ["first"] and beats == [threading.current_thread().name] * 3

    monkeypatch.setattr(sync_pool, "IDLE_SECONDS", 10.0)
    quick = CallPool(threads=2)
    quick.add(LISTING, lambda: "listing")
    assert list(quick.results(idle=idle)) == ["listing"] and len(beats) == 3
    quick.close()
