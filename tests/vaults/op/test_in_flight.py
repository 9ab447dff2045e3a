"""`OpClient(max_in_flight=N)`: however many threads call, at most N op processes run at once
(a sync gives parsing threads of its own while its OP_CONCURRENCY op slots stay busy)."""

from __future__ import annotations

import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.vaults.op.conftest import FakeOp
from tests.vaults.op.test_runner import client
from vaults.op import runner

CALLERS = 6


class ProcessCounter:
    """Wraps subprocess.run as the runner sees it: counts op processes running at once, and holds
    each one until `hold_until` are running (or 3 s passed), so overlap is forced, not hoped for."""

    def __init__(self, hold_until: int) -> None:
        self.hold_until = hold_until
        self.running = 0
        self.most = 0
        self.condition = threading.Condition()
        self.real = subprocess.run

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self.condition:
            self.running += 1
            self.most = max(self.most, self.running)
            self.condition.notify_all()
            self.condition.wait_for(lambda: self.running >= self.hold_until, timeout=3)
        try:
            return self.real(*args, **kwargs)
        finally:
            with self.condition:
                self.running -= 1


def call_from_threads(op: runner.OpClient) -> None:
    with ThreadPoolExecutor(max_workers=CALLERS) as pool:
        assert len(list(pool.map(lambda _: op.vault_list(), range(CALLERS)))) == CALLERS


def test_a_client_with_two_slots_never_runs_a_third_op_process(fake_op: FakeOp, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_op.play({"stdout": "[]", "sleep": 0.2})
    counter = ProcessCounter(hold_until=2)
    monkeypatch.setattr(runner.subprocess, "run", counter)
    op = client(fake_op, max_in_flight=2)

    call_from_threads(op)

    assert counter.most == 2
    assert (op.calls, op.requests) == (CALLERS, CALLERS)  # every call still made and counted once


def test_a_client_without_a_limit_runs_as_many_op_processes_as_callers(
    fake_op: FakeOp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The decoy: the counter does see more than two when nothing limits them."""
    fake_op.play({"stdout": "[]"})
    counter = ProcessCounter(hold_until=CALLERS)
    monkeypatch.setattr(runner.subprocess, "run", counter)
    started = time.monotonic()

    call_from_threads(client(fake_op))

    assert counter.most == CALLERS, time.monotonic() - started
