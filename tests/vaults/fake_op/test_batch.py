"""The fake `op`'s batch read `item get -` as a real subprocess: items from stdin, each item's JSON
in turn, one call and N requests in the shared counter, per-item not-found lines, a rate limit
that cuts a batch, the per-process and per-request costs, and the fault knobs."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.vaults.fake_op.conftest import FAKE_OP
from vaults.fake_op import knobs
from vaults.fake_op.calllog import read_call_log

MISSING = "aaaaaaaaaaaaaaaaaaaaaaaaaa"


@pytest.fixture
def vault_items(demo_data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    vault = next(v for v in demo_data["vaults"]
                 if sum(1 for i in demo_data["items"] if i["vault_id"] == v["id"] and i["state"] == "ACTIVE") >= 5)  # fmt: skip
    return vault, [i["id"] for i in demo_data["items"] if i["vault_id"] == vault["id"] and i["state"] == "ACTIVE"][:5]


def batch(account_file: Path, token: str, tmp_path: Path, vault_id: str, ids: list[str],
          env: dict[str, str] | None = None, timeout: float = 20) -> subprocess.CompletedProcess[bytes]:  # fmt: skip
    payload = json.dumps([{"id": i, "vault": {"id": vault_id}} for i in ids]).encode()
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "FAKE_OP_ACCOUNT": str(account_file),
                "OP_SERVICE_ACCOUNT_TOKEN": token, "FAKE_OP_CALL_LOG": str(tmp_path / "calls.jsonl"), **(env or {})}  # fmt: skip
    return subprocess.run([str(FAKE_OP), "--format", "json", "item", "get", "-", "--vault", vault_id, "--reveal"],
                          input=payload, env=full_env, capture_output=True, timeout=timeout, check=False)  # fmt: skip


def printed(stdout: bytes) -> list[dict[str, Any]]:
    """The JSON values op printed one after another."""
    text, decoder, position = stdout.decode(), json.JSONDecoder(), 0
    values: list[dict[str, Any]] = []
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            return values
        value, position = decoder.raw_decode(text, position)
        values.append(value)


@pytest.fixture
def run_batch(account_file: Path, token: str, tmp_path: Path) -> Any:
    def run(vault_id: str, ids: list[str], env: dict[str, str] | None = None, timeout: float = 20) -> Any:
        return batch(account_file, token, tmp_path, vault_id, ids, env, timeout)

    return run


def test_each_item_on_stdin_is_printed_in_turn_as_one_call_of_n_requests(
    run_batch: Any, vault_items: Any, account_file: Path, tmp_path: Path, op: Any
) -> None:
    vault, ids = vault_items

    result = run_batch(vault["id"], ids)

    assert result.returncode == 0, result.stderr.decode()
    items = printed(result.stdout)
    assert [i["id"] for i in items] == ids
    single = json.loads(op("item get", ids[2], "--vault", vault["id"], "--reveal").stdout)
    assert items[2] == single  # the same JSON a single `item get --reveal` prints
    counter = knobs.read_counter(str(account_file))
    assert counter["per_command"]["item get"] == 2 and counter["per_command_requests"]["item get"] == 6
    assert counter["window_reads"] == 6 and counter["calls"] == 2
    logged = [e for e in read_call_log(tmp_path / "calls.jsonl") if "-" in e["argv"]]
    assert [e["items"] for e in logged] == [ids]


def test_a_missing_item_prints_ops_not_found_line_and_the_others_and_exits_1(run_batch: Any, vault_items: Any) -> None:
    vault, ids = vault_items

    result = run_batch(vault["id"], [ids[0], MISSING, ids[1]])

    assert result.returncode == 1
    assert [i["id"] for i in printed(result.stdout)] == [ids[0], ids[1]]
    stderr = result.stderr.decode()
    assert stderr.startswith("[ERROR] ") and stderr.count("[ERROR]") == 1
    assert f'"{MISSING}" isn\'t an item in the "{vault["name"]}" vault. Specify the item with its UUID, name, or domain.' in stderr


def test_with_batch_on_error_stop_the_items_after_the_missing_one_are_not_printed(run_batch: Any, vault_items: Any) -> None:
    vault, ids = vault_items

    result = run_batch(vault["id"], [ids[0], MISSING, ids[1]], env={"FAKE_OP_BATCH_ON_ERROR": "stop"})

    assert result.returncode == 1
    assert [i["id"] for i in printed(result.stdout)] == [ids[0]]


def test_a_rate_limit_counts_requests_and_cuts_a_batch_in_the_middle(
    run_batch: Any, vault_items: Any, op: Any
) -> None:
    vault, ids = vault_items
    env = {"FAKE_OP_RATE_LIMIT_AFTER": "4", "FAKE_OP_RATE_LIMIT_RESET_SECONDS": "600"}

    first = run_batch(vault["id"], ids[:3], env=env)  # requests 1-3: served
    second = run_batch(vault["id"], ids[3:5] + ids[:1], env=env)  # 4 served, 5 and 6 refused
    after = op("item get", ids[0], "--vault", vault["id"], env=env)  # request 7: refused

    assert first.returncode == 0 and len(printed(first.stdout)) == 3
    assert second.returncode == 4
    assert [i["id"] for i in printed(second.stdout)] == [ids[3]]
    assert b"(429) Too Many Requests" in second.stderr and b"retry in 10 minutes" in second.stderr
    assert after.returncode == 4


def test_a_batch_exactly_at_the_limit_is_served_whole(run_batch: Any, vault_items: Any, op: Any) -> None:
    vault, ids = vault_items
    env = {"FAKE_OP_RATE_LIMIT_AFTER": "5", "FAKE_OP_RATE_LIMIT_RESET_SECONDS": "600"}

    result = run_batch(vault["id"], ids, env=env)

    assert result.returncode == 0 and len(printed(result.stdout)) == 5
    assert op("whoami", env=env).returncode == 4  # the sixth request


def test_the_ratelimit_command_reports_a_batch_as_n_reads(run_batch: Any, vault_items: Any, op: Any) -> None:
    vault, ids = vault_items
    run_batch(vault["id"], ids[:4])

    rows = json.loads(op("service-account ratelimit").stdout)

    token_read = next(r for r in rows if r["type"] == "token" and r["action"] == "read")
    assert token_read["used"] == 5  # 4 items + the ratelimit call itself


def test_latency_is_per_request_and_start_is_per_process(run_batch: Any, vault_items: Any) -> None:
    vault, ids = vault_items
    started = time.monotonic()
    run_batch(vault["id"], ids[:4], env={"FAKE_OP_LATENCY_MS": "150"})
    batched = time.monotonic() - started
    started = time.monotonic()
    run_batch(vault["id"], ids[:4], env={"FAKE_OP_START_MS": "400"})
    with_start = time.monotonic() - started

    assert batched >= 0.6  # 4 x 150 ms: no concurrency inside op is modelled
    assert with_start >= 0.4


def test_fail_command_and_malformed_apply_to_a_batch_as_a_whole(run_batch: Any, vault_items: Any) -> None:
    vault, ids = vault_items

    failed = run_batch(vault["id"], ids, env={"FAKE_OP_FAIL_COMMAND": "item get"})
    cut = run_batch(vault["id"], ids, env={"FAKE_OP_MALFORMED": "item get"})

    assert failed.returncode == 4 and failed.stdout == b"" and b"(500)" in failed.stderr
    assert cut.returncode == 0
    with pytest.raises(json.JSONDecodeError):
        printed(cut.stdout)
    text, decoder = cut.stdout.decode(), json.JSONDecoder()
    assert decoder.raw_decode(text)[0]["id"] == ids[0]  # the first half still holds whole items


def test_non_utf8_and_hang_apply_to_a_batch(run_batch: Any, vault_items: Any) -> None:
    vault, ids = vault_items
    spoiled = run_batch(vault["id"], ids, env={"FAKE_OP_NON_UTF8": "item get"})
    with pytest.raises(UnicodeDecodeError):
        spoiled.stdout.decode("utf-8")
    with pytest.raises(subprocess.TimeoutExpired):
        run_batch(vault["id"], ids, env={"FAKE_OP_HANG": "item get"}, timeout=1)


def test_input_that_is_not_an_item_list_fails_the_call(run_batch: Any, vault_items: Any, account_file: Path,
                                                       token: str, tmp_path: Path) -> None:  # fmt: skip
    vault, _ = vault_items
    result = subprocess.run([str(FAKE_OP), "item", "get", "-", "--vault", vault["id"]], input=b"[{\"title\": \"x\"}]",
                            env={"PATH": os.environ["PATH"], "FAKE_OP_ACCOUNT": str(account_file),
                                 "OP_SERVICE_ACCOUNT_TOKEN": token}, capture_output=True, check=False)  # fmt: skip
    assert result.returncode == 1 and b'has no "id"' in result.stderr and result.stdout == b""
