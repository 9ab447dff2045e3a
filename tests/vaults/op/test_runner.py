"""OpClient against a real executable stand-in: env, argv, retries, timeouts, counters, logs."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.vaults.op.conftest import FINGERPRINT_KEY, TOKEN, FakeOp
from vaults.op import (
    OpClient,
    OpCommandFailed,
    OpInvalidArgument,
    OpMalformedOutput,
    OpNotFound,
    OpNotSignedIn,
    OpRateLimited,
    OpStopped,
    OpTimeout,
    OpUnavailable,
)
from vaults.op.runner import BACKOFF_CAP_SECONDS

ITEM = "nnotgv5xwrhjbdj6bt3rugrijy"
VAULT = "gshlsjsajnawtnjynzgwmiebge"
OTHER_VAULT = "yv7w5ijyxbdhxgh3njphwsxujy"
RATE_LIMIT_SHORT = "[ERROR] 2023/06/26 11:55:32 (429) Too Many Requests: Please retry in 2 seconds.\n"
RATE_LIMIT_LONG = (
    "[ERROR] 2023/06/26 11:55:32 (429) Too Many Requests: You've reached the maximum number of this type of "
    "requests this service account is allowed to make. Please retry in 58 minutes or try other requests.\n"
)
NOT_FOUND = '[ERROR] 2022/11/08 19:39:39 "x" isn\'t an item in the "Test Data" vault. Specify the item.\n'
VAULTS = json.dumps([{"id": VAULT, "name": "Test Data", "content_version": 3}])


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(fake: FakeOp | Path | str, *, timeout: float = 10, max_retries: int = 3, **kw: Any) -> OpClient:
    op_bin = str(fake.path) if isinstance(fake, FakeOp) else str(fake)
    return OpClient(op_bin=op_bin, token=TOKEN, timeout=timeout, max_retries=max_retries,
                    fingerprint_key=FINGERPRINT_KEY, **kw)  # fmt: skip


def item_json(item_id: str = ITEM, vault_id: str = VAULT, **extra: Any) -> str:
    return json.dumps({"id": item_id, "title": "T", "version": 2, "vault": {"id": vault_id}, **extra})


def test_it_passes_the_token_in_the_environment_and_never_in_argv(
    fake_op: FakeOp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OP_CONNECT_HOST", "https://connect.example")  # would override the token in op
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "unrelated-secret")
    fake_op.play({"stdout": VAULTS})
    client(fake_op).vault_list()
    (run,) = fake_op.runs
    assert run["env"]["OP_SERVICE_ACCOUNT_TOKEN"] == TOKEN
    assert all(TOKEN not in arg for arg in run["argv"])
    assert "OP_CONNECT_HOST" not in run["env"] and "AWS_SECRET_ACCESS_KEY" not in run["env"]
    allowed = {"PATH", "HOME", "LANG", "OP_SERVICE_ACCOUNT_TOKEN", "LC_CTYPE"} | OP_NETWORK_AND_CONFIG  # LC_CTYPE: PEP 538
    assert {k for k in run["env"] if not k.startswith("FAKE_OP_")} <= allowed
    assert run["env"]["FAKE_OP_PLAN"] == str(fake_op.plan_path)


# Written out here, not read from the runner: what a real `op` needs behind a corporate proxy, with a
# private CA bundle, or with its config and cache directories elsewhere.
OP_NETWORK_AND_CONFIG = {
    "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "OP_CONFIG_DIR", "XDG_CONFIG_HOME", "OP_CACHE", "TMPDIR", "OP_ACCOUNT",
}
# What this process holds and `op` must never see.
PROCESS_SECRETS = {
    "DATABASE_URL": "postgres://app:db-password@db/openclaw",
    "SECRET_KEY": "django-signing-key",
    "FINGERPRINT_KEY": "fingerprint-hmac-key",
    "OP_EVENTS_TOKEN": "events-api-bearer",
    "OTHER_ACCOUNT_TOKEN": "ops_another_account",
    "CELERY_BROKER_URL": "redis://:broker-password@redis:6379/0",
    "OP_CONNECT_TOKEN": "connect-token",
}


def test_op_gets_what_it_needs_behind_a_proxy_and_nothing_else_of_this_process(
    fake_op: FakeOp, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    needed = {name: f"value-of-{name}" for name in OP_NETWORK_AND_CONFIG}
    needed["TMPDIR"] = str(tmp_path)  # the stand-in is a Python script: it needs a usable TMPDIR
    for name, value in {**needed, **PROCESS_SECRETS}.items():
        monkeypatch.setenv(name, value)
    fake_op.play({"stdout": VAULTS})
    client(fake_op).vault_list()
    (run,) = fake_op.runs
    assert {name: run["env"].get(name) for name in needed} == needed
    leaked = {name for name in PROCESS_SECRETS if name in run["env"]}
    assert not leaked
    assert not any(value in "\n".join(run["env"].values()) for value in PROCESS_SECRETS.values())


def test_it_runs_item_get_with_ids_and_reveal_and_parses_the_result(fake_op: FakeOp) -> None:
    fake_op.play({"stdout": item_json(fields=[{"id": "password", "type": "CONCEALED", "value": "s3cr3t-value!"}])})
    op = client(fake_op)
    detail = op.item_get(ITEM, VAULT)
    assert fake_op.runs[0]["argv"] == ["--format", "json", "item", "get", ITEM, "--vault", VAULT, "--reveal"]
    assert detail.secret_fields[0].secret is not None
    assert (op.calls, op.requests) == (1, 1)


def test_it_retries_a_short_rate_limit_then_succeeds(fake_op: FakeOp) -> None:
    fake_op.play({"stderr": RATE_LIMIT_SHORT, "exit": 1}, {"stderr": RATE_LIMIT_SHORT, "exit": 1}, {"stdout": VAULTS})
    sleeps = Sleeps()
    op = client(fake_op, sleep=sleeps)
    assert [v.id for v in op.vault_list()] == [VAULT]
    assert len(sleeps) == 2 and all(s >= 2 for s in sleeps)  # at least what op asked for
    assert (op.calls, op.requests) == (3, 3)


def test_it_backs_off_exponentially_with_full_jitter_up_to_the_cap(fake_op: FakeOp) -> None:
    fake_op.play({"stderr": "[ERROR] 2024/01/01 00:00:00 (429) Too Many Requests\n", "exit": 1})
    bounds: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        bounds.append((low, high))
        return high

    with pytest.raises(OpRateLimited):
        client(fake_op, max_retries=7, sleep=Sleeps(), random_uniform=uniform).vault_list()
    assert bounds == [
        (0.0, 1.0),
        (0.0, 2.0),
        (0.0, 4.0),
        (0.0, 8.0),
        (0.0, 16.0),
        (0.0, BACKOFF_CAP_SECONDS),
        (0.0, 30.0),
    ]


def test_it_raises_a_long_rate_limit_at_once_instead_of_sleeping(fake_op: FakeOp) -> None:
    fake_op.play({"stderr": RATE_LIMIT_LONG, "exit": 1}, {"stdout": VAULTS})
    sleeps = Sleeps()
    op = client(fake_op, sleep=sleeps)
    with pytest.raises(OpRateLimited) as caught:
        op.vault_list()
    assert caught.value.retry_after_seconds == 58 * 60
    assert sleeps == [] and op.calls == 1


def test_it_gives_up_after_max_retries(fake_op: FakeOp) -> None:
    fake_op.play({"stderr": RATE_LIMIT_SHORT, "exit": 1})
    op = client(fake_op, max_retries=2, sleep=Sleeps())
    with pytest.raises(OpRateLimited):
        op.vault_list()
    assert op.calls == 3


def test_it_does_not_retry_a_permanent_error(fake_op: FakeOp) -> None:
    fake_op.play(
        {"stderr": "[ERROR] 2023/08/29 12:30:21 service account token set, but not authenticated yet\n", "exit": 1}
    )
    op = client(fake_op, sleep=Sleeps())
    with pytest.raises(OpNotSignedIn) as caught:
        op.whoami()
    assert op.calls == 1
    assert caught.value.exit_code == 1
    assert "not authenticated yet" in caught.value.stderr_excerpt


def test_it_reports_not_found_with_the_exit_code(fake_op: FakeOp) -> None:
    fake_op.play({"stderr": NOT_FOUND, "exit": 1})
    with pytest.raises(OpNotFound):
        client(fake_op).item_get(ITEM, VAULT)


def test_it_times_out_a_hanging_op_and_retries_reads(fake_op: FakeOp) -> None:
    fake_op.play({"sleep": 5, "stdout": VAULTS}, {"stdout": VAULTS})
    sleeps = Sleeps()
    op = client(fake_op, timeout=0.5, max_retries=1, sleep=sleeps)
    assert [v.id for v in op.vault_list()] == [VAULT]
    assert op.calls == 2 and len(sleeps) == 1


def test_it_raises_timeout_when_retries_are_used_up(fake_op: FakeOp) -> None:
    fake_op.play({"sleep": 5})
    with pytest.raises(OpTimeout):
        client(fake_op, timeout=0.3, max_retries=0).vault_list()


def test_it_never_retries_a_timed_out_write(fake_op: FakeOp) -> None:
    fake_op.play({"sleep": 5}, {"stdout": item_json(item_id="b" * 26, vault_id=OTHER_VAULT)})
    op = client(fake_op, timeout=0.3, max_retries=3, sleep=Sleeps())
    with pytest.raises(OpTimeout):
        op.move_item(ITEM, current_vault_id=VAULT, destination_vault_id=OTHER_VAULT)
    assert op.calls == 1


def test_it_retries_a_write_refused_with_409(fake_op: FakeOp) -> None:
    conflict = "[ERROR] 2025/01/01 00:00:00 (409) Conflict: The item was changed.\n"
    fake_op.play({"stderr": conflict, "exit": 4}, {"stdout": item_json(title="Renamed")})
    op = client(fake_op, sleep=Sleeps())
    assert op.edit_title(ITEM, VAULT, "Renamed").title == "Renamed"
    assert op.calls == 2 and op.requests == 12


def test_it_returns_the_new_id_of_a_moved_item(fake_op: FakeOp) -> None:
    new_id = "c" * 26
    fake_op.play({"stdout": item_json(item_id=new_id, vault_id=OTHER_VAULT)})
    assert client(fake_op).move_item(ITEM, current_vault_id=VAULT, destination_vault_id=OTHER_VAULT) == new_id
    assert fake_op.runs[0]["argv"][2:] == [
        "item",
        "move",
        ITEM,
        "--current-vault",
        VAULT,
        "--destination-vault",
        OTHER_VAULT,
    ]


def test_it_archives_rather_than_deletes(fake_op: FakeOp) -> None:
    fake_op.play({"stdout": ""})
    client(fake_op).archive_item(ITEM, VAULT)
    assert fake_op.runs[0]["argv"][-1] == "--archive"


def test_it_says_a_write_probably_happened_when_its_output_is_unreadable(fake_op: FakeOp) -> None:
    fake_op.play({"stdout": "not json"})
    with pytest.raises(OpMalformedOutput, match="probably made") as caught:
        client(fake_op).edit_tags(ITEM, VAULT, ["prod"])
    assert caught.value.__context__ is None


def test_it_refuses_a_hostile_id_before_running_op(fake_op: FakeOp) -> None:
    op = client(fake_op)
    with pytest.raises(OpInvalidArgument):
        op.item_get("--help", VAULT)
    with pytest.raises(OpInvalidArgument):
        op.vault_user_list("-" + "a" * 25)
    assert op.calls == 0 and fake_op.runs == []


def test_it_refuses_to_put_the_token_in_argv(fake_op: FakeOp) -> None:
    op = client(fake_op)
    with pytest.raises(OpInvalidArgument):
        op.edit_title(ITEM, VAULT, f"oops {TOKEN}")
    assert fake_op.runs == []


def test_it_reports_a_missing_binary_as_unavailable(tmp_path: Path) -> None:
    with pytest.raises(OpUnavailable):
        client(tmp_path / "no-such-op").whoami()


def test_it_reports_a_non_executable_binary_as_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "op"
    path.write_text("#!/bin/sh\n")
    path.chmod(0o600)
    with pytest.raises(OpUnavailable):
        client(path).whoami()


def test_it_refuses_to_start_without_a_token(fake_op: FakeOp) -> None:
    with pytest.raises(OpNotSignedIn):
        OpClient(op_bin=str(fake_op.path), token="", timeout=1, max_retries=0, fingerprint_key=FINGERPRINT_KEY)


def test_it_logs_command_ids_and_exit_but_never_the_token_or_stdout(
    fake_op: FakeOp, caplog: pytest.LogCaptureFixture
) -> None:
    canary = "CANARY-secret-value-7f3a"
    fake_op.play(
        {"stderr": f"[ERROR] 2024/01/01 00:00:00 (500) Internal: echoing {TOKEN}\n", "exit": 1},
        {"stdout": item_json(fields=[{"id": "password", "type": "CONCEALED", "value": canary}])},
    )
    caplog.set_level(logging.DEBUG, logger="vaults.op")
    op = client(fake_op, sleep=Sleeps())
    with pytest.raises(OpCommandFailed) as caught:
        op.item_get(ITEM, VAULT)
    assert TOKEN not in caught.value.stderr_excerpt and TOKEN not in str(caught.value)
    detail = op.item_get(ITEM, VAULT)
    assert canary not in repr(detail)
    assert "op item get" in caplog.text and ITEM in caplog.text and "exit=0" in caplog.text
    assert TOKEN not in caplog.text and canary not in caplog.text
    assert TOKEN not in repr(op)


def test_it_counts_calls_and_requests_across_threads(fake_op: FakeOp) -> None:
    fake_op.play({"stdout": "[]"})
    op = client(fake_op)
    results: list[object] = []

    def list_items() -> None:
        results.append(op.item_list(VAULT))

    threads = [threading.Thread(target=list_items) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [()] * 12
    assert (op.calls, op.requests) == (12, 24)
    assert len(fake_op.runs) == 12


def test_once_the_caller_says_stop_no_op_process_starts_and_the_retry_of_a_running_call_stops_too(fake_op: FakeOp) -> None:
    """A sync whose call failed for good sets the event: a call waiting for a slot, or about to
    try again, raises OpStopped without running op. Decoy: before the event is set, calls run."""
    stop = threading.Event()
    fake_op.play({"stdout": VAULTS}, {"stderr": RATE_LIMIT_SHORT, "exit": 1}, {"stdout": VAULTS})
    # The stop arrives while the second call waits to retry its rate limit.
    op = client(fake_op, sleep=lambda seconds: stop.set())
    op.stop_when(stop)
    assert [v.id for v in op.vault_list()] == [VAULT]  # not stopped yet: it runs

    with pytest.raises(OpStopped):
        op.vault_list()
    with pytest.raises(OpStopped):
        op.item_get(ITEM, VAULT)

    assert len(fake_op.runs) == 2 and op.calls == 2  # the retry and the later call never ran op
