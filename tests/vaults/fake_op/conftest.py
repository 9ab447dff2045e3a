from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.op_samples import OP_SAMPLES as SAMPLES  # noqa: F401 (re-exported for the tests here)
from vaults.fake_op.account import save
from vaults.fake_op.demo import generate_organisation

REPO = Path(__file__).resolve().parents[3]
FAKE_OP = REPO / "bin" / "fake-op"
NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def demo_data() -> dict[str, Any]:
    return generate_organisation(now=NOW)


@pytest.fixture
def account_file(tmp_path: Path, demo_data: dict[str, Any]) -> Path:
    path = tmp_path / "account.json"
    save(path, demo_data)
    return path


@pytest.fixture
def token(demo_data: dict[str, Any]) -> str:
    return str(demo_data["tokens"][0]["token"])


OpRunner = Callable[..., subprocess.CompletedProcess[bytes]]


@pytest.fixture
def op(account_file: Path, token: str, tmp_path: Path) -> OpRunner:
    """Run bin/fake-op as a real subprocess against the test's account file. The first argument
    is split on spaces, so `op("item get", item_id)` runs `op --format json item get <id>`."""

    def run(
        *args: str, env: dict[str, str | None] | None = None, timeout: float = 20
    ) -> subprocess.CompletedProcess[bytes]:
        full_env: dict[str, str | None] = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "FAKE_OP_ACCOUNT": str(account_file),
            "OP_SERVICE_ACCOUNT_TOKEN": token,
            "FAKE_OP_CALL_LOG": str(tmp_path / "calls.jsonl"),
            **(env or {}),
        }
        clean = {key: value for key, value in full_env.items() if value is not None}
        argv = [*args[0].split(), *args[1:]] if args else []
        return subprocess.run(
            [str(FAKE_OP), "--format", "json", *argv], env=clean, capture_output=True, timeout=timeout, check=False
        )

    return run


def ok_json(result: subprocess.CompletedProcess[bytes]) -> Any:
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)
