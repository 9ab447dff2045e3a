"""The call log: one JSON line per fake `op` call, appended to the file named by FAKE_OP_CALL_LOG.

Line fields: `ts` (ISO 8601 UTC), `argv` (arguments after the program name, with anything
token-shaped replaced by "[redacted]"), `command` (e.g. "item get"; "" when the argv did not parse),
`exit_code`, `pid`, `duration_ms`, and for a batch `item get -` the item ids it read from stdin
(`items`). Tests and benchmarks count calls from it.
"""

from __future__ import annotations

import fcntl
import json
import os
from typing import Any

REDACTED = "[redacted]"


def scrub_argv(argv: list[str], token: str | None) -> list[str]:
    def clean(arg: str) -> str:
        if (token and token in arg) or arg.startswith("ops_") or "=ops_" in arg:
            return REDACTED
        return arg

    return [clean(arg) for arg in argv]


def append_call(path: str, entry: dict[str, Any]) -> None:
    line = (json.dumps(entry, ensure_ascii=False) + "\n").encode()
    # One write under a lock so lines from concurrent processes never interleave.
    with open(path, "ab") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            os.write(handle.fileno(), line)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_call_log(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every logged call, oldest first; [] when the log does not exist yet."""
    try:
        with open(path, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
    except FileNotFoundError:
        return []


def count_calls(path: str | os.PathLike[str], command: str | None = None) -> int:
    """Number of logged calls, or of calls of one command such as "item get"."""
    return sum(1 for entry in read_call_log(path) if command is None or entry["command"] == command)
