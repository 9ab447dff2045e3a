from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.vaults.fake_op.conftest import OpRunner, ok_json
from vaults.fake_op import knobs


def _vault_and_item(demo_data: dict[str, Any]) -> tuple[str, str]:
    item = next(i for i in demo_data["items"] if i["state"] == "ACTIVE")
    return item["vault_id"], item["id"]


def test_latency_slows_every_call(op: OpRunner) -> None:
    started = time.monotonic()
    op("whoami", env={"FAKE_OP_LATENCY_MS": "400"})
    assert time.monotonic() - started >= 0.4


def test_calls_after_the_nth_are_rate_limited(op: OpRunner) -> None:
    env = {"FAKE_OP_RATE_LIMIT_AFTER": "2", "FAKE_OP_RATE_LIMIT_RESET_SECONDS": "600"}
    results = [op("vault list", env=env) for _ in range(4)]
    assert [r.returncode for r in results] == [0, 0, 4, 4]
    assert b"(429) Too Many Requests" in results[2].stderr
    assert b"Please retry in 10 minutes" in results[2].stderr


def test_the_rate_limit_window_resets(op: OpRunner) -> None:
    env = {"FAKE_OP_RATE_LIMIT_AFTER": "1", "FAKE_OP_RATE_LIMIT_RESET_SECONDS": "1"}
    assert op("whoami", env=env).returncode == 0
    assert op("whoami", env=env).returncode == 4
    time.sleep(1.1)
    assert op("whoami", env=env).returncode == 0


def test_the_nth_call_fails(op: OpRunner) -> None:
    codes = [op("whoami", env={"FAKE_OP_FAIL_CALL": "2"}).returncode for _ in range(3)]
    assert codes == [0, 4, 0]


def test_a_command_fails_a_given_number_of_times(op: OpRunner, demo_data: dict[str, Any]) -> None:
    vault_id, item_id = _vault_and_item(demo_data)
    env = {"FAKE_OP_FAIL_COMMAND": "item get", "FAKE_OP_FAIL_TIMES": "2"}
    codes = [op("item get", item_id, "--vault", vault_id, env=env).returncode for _ in range(3)]
    assert codes == [4, 4, 0]
    assert op("whoami", env=env).returncode == 0


def test_malformed_output_is_not_json(op: OpRunner, demo_data: dict[str, Any]) -> None:
    vault_id, _ = _vault_and_item(demo_data)
    result = op("item list", "--vault", vault_id, env={"FAKE_OP_MALFORMED": "item list"})
    assert result.returncode == 0
    with pytest.raises(json.JSONDecodeError):
        json.loads(result.stdout)


def test_non_utf8_output_cannot_be_decoded(op: OpRunner, demo_data: dict[str, Any]) -> None:
    vault_id, item_id = _vault_and_item(demo_data)
    result = op("item get", item_id, "--vault", vault_id, env={"FAKE_OP_NON_UTF8": "item get"})
    assert result.returncode == 0
    with pytest.raises(UnicodeDecodeError):
        result.stdout.decode("utf-8")


def test_a_hanging_command_runs_into_the_callers_timeout(op: OpRunner, demo_data: dict[str, Any]) -> None:
    vault_id, item_id = _vault_and_item(demo_data)
    with pytest.raises(subprocess.TimeoutExpired):
        op("item get", item_id, "--vault", vault_id, env={"FAKE_OP_HANG": "item get"}, timeout=1)
    assert ok_json(op("whoami", env={"FAKE_OP_HANG": "item get"}))


def test_writes_conflict_a_given_number_of_times(op: OpRunner, demo_data: dict[str, Any]) -> None:
    vault_id, item_id = _vault_and_item(demo_data)
    env = {"FAKE_OP_CONFLICT_TIMES": "2"}
    results = [op("item edit", item_id, "--vault", vault_id, "--tags", "x", env=env) for _ in range(3)]
    assert [r.returncode for r in results] == [4, 4, 0]
    assert b"(409) Conflict" in results[0].stderr
    assert op("item get", item_id, "--vault", vault_id, env=env).returncode == 0  # reads never conflict


def test_the_call_counter_is_shared_between_processes(op: OpRunner, account_file: Path) -> None:
    for _ in range(3):
        op("whoami")
    assert knobs.read_counter(str(account_file))["calls"] == 3
    assert knobs.read_counter(str(account_file))["per_command"] == {"whoami": 3}
