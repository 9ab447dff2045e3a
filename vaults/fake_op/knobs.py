"""Fault injection and call accounting for the fake `op`, driven by environment variables.

The call counter is shared by every process using the same account file: it lives in
`<account file>.calls` and is updated under an exclusive lock on `<account file>.calls.lock`.
See `vaults/fake_op/__init__.py` for the list of knobs.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_RATE_LIMIT_RESET_SECONDS = 3600


@dataclass(frozen=True)
class CallState:
    number: int  # 1-based number of this call over the counter file's lifetime
    window_calls: int  # calls in the current rate-limit window, this one included
    window_reads: int  # read requests in the window: a batch `item get -` of N items counts N
    window_writes: int
    window_reset_in: int  # seconds until the window resets
    command_calls: int  # calls of this command (e.g. "item get"), this one included
    conflicts_left_before: int  # how many injected 409s were still to be served
    requests: int = 1  # requests this call makes (N for a batch of N items)

    @property
    def window_requests(self) -> int:
        """Requests in the window, this call's included: what 1Password's limits count."""
        return self.window_reads + self.window_writes


def counter_path(account_path: str) -> Path:
    return Path(f"{account_path}.calls")


def env_int(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    return int(value) if value else None


def _matches(name: str, command: str) -> bool:
    wanted = os.environ.get(name, "").strip()
    return bool(wanted) and (wanted == "*" or wanted == command)


def register_call(account_path: str, command: str, *, is_write: bool, requests: int = 1) -> CallState:
    """Count one call making `requests` requests (a batch read: one per item) in the shared
    counter file and return the counts as they now stand."""
    reset_seconds = env_int("FAKE_OP_RATE_LIMIT_RESET_SECONDS") or DEFAULT_RATE_LIMIT_RESET_SECONDS
    path = counter_path(account_path)
    with open(f"{path}.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            state: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
        except ValueError:
            state = {}
        now = time.time()
        if not state.get("window_start") or now - state["window_start"] >= reset_seconds:
            state.update(window_start=now, window_calls=0, window_reads=0, window_writes=0)
        state["calls"] = state.get("calls", 0) + 1
        state["window_calls"] += 1
        state["window_writes" if is_write else "window_reads"] += requests
        state["requests"] = state.get("requests", 0) + requests
        per_command = state.setdefault("per_command", {})
        per_command[command] = per_command.get(command, 0) + 1
        per_command_requests = state.setdefault("per_command_requests", {})
        per_command_requests[command] = per_command_requests.get(command, 0) + requests
        conflicts_before = 0
        if is_write:
            conflicts_before = max((env_int("FAKE_OP_CONFLICT_TIMES") or 0) - state.get("conflicts_served", 0), 0)
            if conflicts_before:
                state["conflicts_served"] = state.get("conflicts_served", 0) + 1
        path.write_text(json.dumps(state))
        fcntl.flock(lock, fcntl.LOCK_UN)
    return CallState(
        number=state["calls"],
        window_calls=state["window_calls"],
        window_reads=state["window_reads"],
        window_writes=state["window_writes"],
        window_reset_in=max(int(state["window_start"] + reset_seconds - now), 0),
        command_calls=per_command[command],
        conflicts_left_before=conflicts_before,
        requests=requests,
    )


def read_counter(account_path: str) -> dict[str, Any]:
    """The shared counter as stored (`calls`, `per_command`, window counts), {} before any call."""
    path = counter_path(account_path)
    return json.loads(path.read_text()) if path.exists() else {}


def sleep_start() -> None:
    """FAKE_OP_START_MS: what real op spends per process before its first request (start-up,
    reading its config, signing in with the token). Batching saves this, not the latency."""
    start = env_int("FAKE_OP_START_MS")
    if start:
        time.sleep(start / 1000)


def sleep_latency(requests: int = 1) -> None:
    """FAKE_OP_LATENCY_MS per request, one after another: the fake models no concurrency inside
    op, so a batch of N sleeps N x the latency (an upper bound for real op)."""
    latency = env_int("FAKE_OP_LATENCY_MS")
    if latency and requests > 0:
        time.sleep(latency * requests / 1000)


def should_hang(command: str) -> bool:
    return _matches("FAKE_OP_HANG", command)


def hang_forever() -> None:
    while True:
        time.sleep(3600)


def should_fail_call(state: CallState) -> bool:
    return env_int("FAKE_OP_FAIL_CALL") == state.number


def should_fail_command(command: str, state: CallState) -> bool:
    if not _matches("FAKE_OP_FAIL_COMMAND", command):
        return False
    times = env_int("FAKE_OP_FAIL_TIMES")
    return times is None or state.command_calls <= times


def requests_allowed(state: CallState) -> int:
    """How many of this call's requests fit under FAKE_OP_RATE_LIMIT_AFTER (requests allowed per
    window; a single call is one request, so for it this is "calls after the Nth fail"). A batch
    can be cut in the middle: its first requests are served, the rest refused with a 429."""
    after = env_int("FAKE_OP_RATE_LIMIT_AFTER")
    if after is None:
        return state.requests
    before = state.window_requests - state.requests
    return max(0, min(state.requests, after - before))


def rate_limited(state: CallState) -> bool:
    """Every request of this call is refused."""
    return requests_allowed(state) == 0


def should_conflict(state: CallState) -> bool:
    return state.conflicts_left_before > 0


def mangle_output(command: str, text: str) -> bytes:
    """Apply FAKE_OP_MALFORMED (cut the JSON in half) and FAKE_OP_NON_UTF8 (insert bytes that are
    not UTF-8 inside the first string value)."""
    if _matches("FAKE_OP_MALFORMED", command):
        text = text[: len(text) // 2] if len(text) > 2 else "{"
    data = text.encode()
    if _matches("FAKE_OP_NON_UTF8", command):
        marker = b'": "'
        data = data.replace(marker, marker + b"\xff\xfe\xc3\x28", 1) if marker in data else b"\xff\xfe" + data
    return data
