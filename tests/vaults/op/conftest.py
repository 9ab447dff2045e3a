"""Fixtures for the `op` package: the real op samples and a scriptable stand-in executable."""

from __future__ import annotations

import base64
import json
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.op_samples import OP_SAMPLES, sample_path

REPO_ROOT = Path(__file__).resolve().parents[3]
OP_ERRORS_MD = OP_SAMPLES / "op-errors.md"
FINGERPRINT_KEY = b"test-fingerprint-key"
TOKEN = "ops_eyJzaWduSW5BZGRyZXNzIjoibXkuMXBhc3N3b3JkLmNvbSJ9TESTTOKEN"

# A tiny `op`: each run appends its argv, environment and stdin to a log, then plays the next step
# of its plan (stdout, stderr, exit code, optional sleep before or after printing). The plan's path arrives in FAKE_OP_PLAN,
# which also proves FAKE_OP_* variables pass through the runner's minimal environment.
SCRIPT = """\
#!{python}
import base64, fcntl, json, os, sys, time
plan_path = os.environ["FAKE_OP_PLAN"]
stdin = sys.stdin.read()  # what the runner fed op (a batch's item list), "" for /dev/null
plan = json.load(open(plan_path))
with open(plan_path + ".lock", "w") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    counter = plan_path + ".count"
    n = int(open(counter).read()) if os.path.exists(counter) else 0
    with open(counter, "w") as out:
        out.write(str(n + 1))
    with open(plan_path + ".log", "a") as log:
        log.write(json.dumps({{"argv": sys.argv[1:], "env": dict(os.environ), "stdin": stdin}}) + "\\n")
step = plan["steps"][min(n, len(plan["steps"]) - 1)]
time.sleep(step.get("sleep", 0))
sys.stdout.buffer.write(base64.b64decode(step.get("stdout_b64", "")))
sys.stdout.flush()
time.sleep(step.get("sleep_after", 0))  # an op that printed part of its answer, then hangs
sys.stderr.write(step.get("stderr", ""))
sys.exit(step.get("exit", 0))
"""


@dataclass
class FakeOp:
    path: Path
    plan_path: Path

    def play(self, *steps: dict[str, Any]) -> None:
        """Set the steps for the next runs; `stdout` (str or bytes) is stored base64-encoded."""
        encoded = []
        for step in steps:
            step = dict(step)
            stdout = step.pop("stdout", b"")
            if isinstance(stdout, str):
                stdout = stdout.encode()
            step["stdout_b64"] = base64.b64encode(stdout).decode()
            encoded.append(step)
        self.plan_path.write_text(json.dumps({"steps": encoded}))

    @property
    def runs(self) -> list[dict[str, Any]]:
        log = Path(str(self.plan_path) + ".log")
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.fixture
def fake_op(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeOp:
    path = tmp_path / "op"
    path.write_text(SCRIPT.format(python=sys.executable))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    plan_path = tmp_path / "plan.json"
    monkeypatch.setenv("FAKE_OP_PLAN", str(plan_path))
    fake = FakeOp(path=path, plan_path=plan_path)
    fake.play({"stdout": "{}"})
    return fake


@pytest.fixture
def sample() -> Callable[[str], bytes]:
    def read(name: str) -> bytes:
        return sample_path(name).read_bytes()

    return read


def sample_files() -> list[Path]:
    return sorted(OP_SAMPLES.glob("*.json")) if OP_SAMPLES.is_dir() else []
