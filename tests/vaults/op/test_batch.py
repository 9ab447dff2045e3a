"""`OpClient.item_get_batch` against a scripted `op`: what goes to op (argv, stdin), how its
output is read (a stream, a list, fewer items, foreign ids, cut JSON, per-item failures), what
is fetched again alone, and which failures are raised as for a single read."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from tests.vaults.conftest import FAKE_OP, write_org
from tests.vaults.op.conftest import FakeOp
from tests.vaults.op.test_runner import NOT_FOUND, RATE_LIMIT_LONG, RATE_LIMIT_SHORT, VAULT, Sleeps, client
from vaults.fake_op import account as fake_account
from vaults.op import OpClient, OpNotSignedIn, OpRateLimited, OpTimeout, commands, runner
from vaults.op.errors import OpInvalidArgument

A, B, C, D = (f"{letter * 6}nnotgv5xwrhjbdj6bt3r" for letter in "abcd")
FOREIGN = "zzzzzzgv5xwrhjbdj6bt3rugri"
CANARY = "CANARY-batch-secret-5c1e77f0b2"


def item(item_id: str, vault_id: str = VAULT, value: str = CANARY) -> dict[str, Any]:
    return {"id": item_id, "title": f"Item {item_id[:1]}", "version": 3, "vault": {"id": vault_id},
            "category": "PASSWORD",
            "fields": [{"id": "password", "type": "CONCEALED", "purpose": "PASSWORD", "label": "password",
                        "value": value, "password_details": {"strength": "FANTASTIC"}}]}  # fmt: skip


def stream(*items: dict[str, Any]) -> str:
    """How op prints several items: one pretty-printed JSON object after another."""
    return "".join(json.dumps(i, indent=2) + "\n" for i in items)


def single_argv_id(run: dict[str, Any]) -> str:
    argv = run["argv"]
    return str(argv[argv.index("get") + 1])


def test_a_batch_is_one_process_with_the_items_on_stdin_and_costs_one_request_per_item(fake_op: FakeOp) -> None:
    fake_op.play({"stdout": stream(item(A), item(B), item(C))})
    op = client(fake_op)

    batch = op.item_get_batch([A, B, C, B], VAULT)

    (run,) = fake_op.runs
    assert run["argv"] == ["--format", "json", "item", "get", "-", "--vault", VAULT, "--reveal"]
    # Exactly `op item list`'s shape, each item once.
    assert json.loads(run["stdin"]) == [{"id": i, "vault": {"id": VAULT}} for i in (A, B, C)]
    assert list(batch.details) == [A, B, C]
    assert batch.vanished == () and batch.refetched == 0
    assert (op.calls, op.requests) == (1, 3)
    # The value became facts inside vaults/op, as for a single `item get`.
    (field,) = batch.details[A].fields
    assert field.secret is not None and field.secret.fingerprint and CANARY not in repr(batch)


def test_a_json_list_is_read_as_well_as_a_stream(fake_op: FakeOp) -> None:
    fake_op.play({"stdout": json.dumps([item(A), item(B)])})
    op = client(fake_op)

    batch = op.item_get_batch([A, B], VAULT)

    assert list(batch.details) == [A, B]
    assert op.calls == 1


def test_one_item_is_a_plain_item_get_without_stdin(fake_op: FakeOp) -> None:
    fake_op.play({"stdout": json.dumps(item(A))})

    batch = client(fake_op).item_get_batch([A], VAULT)

    (run,) = fake_op.runs
    assert "-" not in run["argv"] and single_argv_id(run) == A
    assert run["stdin"] == ""
    assert list(batch.details) == [A]


def test_items_missing_from_the_output_are_fetched_alone_and_a_vanished_one_is_reported(fake_op: FakeOp) -> None:
    """op printed A and C only: B is fetched alone (found), D too (op: not an item)."""
    fake_op.play(
        {"stdout": stream(item(A), item(C))},
        {"stdout": json.dumps(item(B))},
        {"stderr": NOT_FOUND, "exit": 1},
    )
    op = client(fake_op)

    batch = op.item_get_batch([A, B, C, D], VAULT)

    assert [single_argv_id(r) for r in fake_op.runs[1:]] == [B, D]
    assert list(batch.details) == [A, B, C]
    assert batch.vanished == (D,) and batch.refetched == 2
    assert (op.calls, op.requests) == (3, 6)


def test_an_item_op_failed_inside_a_batch_does_not_discard_the_others(fake_op: FakeOp) -> None:
    """A non-zero exit with the not-found text for B and the other items on stdout."""
    fake_op.play(
        {"stdout": stream(item(A), item(C)), "stderr": NOT_FOUND, "exit": 1},
        {"stderr": NOT_FOUND, "exit": 1},
    )
    op = client(fake_op)

    batch = op.item_get_batch([A, B, C], VAULT)

    assert list(batch.details) == [A, C]
    assert batch.vanished == (B,)
    assert [single_argv_id(r) for r in fake_op.runs[1:]] == [B]  # only B again, not A and C


def test_ids_not_asked_for_and_items_of_another_vault_are_not_taken_for_the_ones_asked(fake_op: FakeOp) -> None:
    other_vault = "yv7w5ijyxbdhxgh3njphwsxujy"
    fake_op.play(
        {"stdout": stream(item(FOREIGN), item(A), item(B, vault_id=other_vault), item(A, value="second copy"))},
        {"stdout": json.dumps(item(B))},
    )
    op = client(fake_op)

    batch = op.item_get_batch([A, B], VAULT)

    assert list(batch.details) == [A, B]
    assert FOREIGN not in {d.summary.id for d in batch.details.values()}
    assert [single_argv_id(r) for r in fake_op.runs[1:]] == [B]
    # The first copy of A wins: its facts are those of a single read of A (the CANARY value).
    fake_op.play({"stdout": json.dumps(item(A))})
    alone = client(fake_op).item_get(A, VAULT)
    assert batch.details[A].fields[0].secret == alone.fields[0].secret


def test_cut_json_keeps_the_items_before_the_cut_and_fetches_the_rest_alone(
    fake_op: FakeOp, caplog: pytest.LogCaptureFixture
) -> None:
    whole = stream(item(A), item(B), item(C))
    cut = whole[: whole.index(f'"{C}"') + 40]  # C's object is cut in the middle of its fields
    fake_op.play({"stdout": cut}, {"stdout": json.dumps(item(C))})
    caplog.set_level(logging.DEBUG, logger="vaults.op")
    op = client(fake_op)

    batch = op.item_get_batch([A, B, C], VAULT)

    assert list(batch.details) == [A, B, C]
    assert [single_argv_id(r) for r in fake_op.runs[1:]] == [C]
    assert "not valid JSON" in caplog.text and "1 alone" in caplog.text
    assert CANARY not in caplog.text


def test_output_that_is_not_utf8_fetches_every_item_alone(fake_op: FakeOp) -> None:
    fake_op.play({"stdout": b"\xff\xfe" + stream(item(A), item(B)).encode()},
                 {"stdout": json.dumps(item(A))}, {"stdout": json.dumps(item(B))})  # fmt: skip

    batch = client(fake_op).item_get_batch([A, B], VAULT)

    assert list(batch.details) == [A, B]
    assert [single_argv_id(r) for r in fake_op.runs[1:]] == [A, B]


def test_an_item_whose_json_is_not_an_item_is_fetched_alone(fake_op: FakeOp) -> None:
    broken = {**item(B), "fields": "not a list"}
    fake_op.play({"stdout": stream(item(A), broken, item(C))}, {"stdout": json.dumps(item(B))})

    batch = client(fake_op).item_get_batch([A, B, C], VAULT)

    assert list(batch.details) == [A, B, C]
    assert [single_argv_id(r) for r in fake_op.runs[1:]] == [B]


def test_a_long_rate_limit_is_raised_at_once_without_reading_items_alone(fake_op: FakeOp) -> None:
    fake_op.play({"stdout": stream(item(A)), "stderr": RATE_LIMIT_LONG, "exit": 4})
    op = client(fake_op, sleep=Sleeps())

    with pytest.raises(OpRateLimited) as raised:
        op.item_get_batch([A, B, C], VAULT)

    assert raised.value.retry_after_seconds == 58 * 60
    assert len(fake_op.runs) == 1  # no single reads spending the budget op just refused


def test_a_short_rate_limit_mid_batch_is_waited_out_and_only_the_unread_items_are_asked_again(fake_op: FakeOp) -> None:
    fake_op.play({"stdout": stream(item(A)), "stderr": RATE_LIMIT_SHORT, "exit": 4},
                 {"stdout": stream(item(B), item(C))})  # fmt: skip
    sleeps = Sleeps()
    op = client(fake_op, sleep=sleeps)

    batch = op.item_get_batch([A, B, C], VAULT)

    assert list(batch.details) == [A, B, C] and batch.refetched == 0
    assert len(fake_op.runs) == 2 and all(r["argv"][4] == "-" for r in fake_op.runs)
    # A was read before the 429: it is not asked (nor paid) for twice.
    assert [json.loads(r["stdin"]) for r in fake_op.runs] == [
        [{"id": i, "vault": {"id": VAULT}} for i in (A, B, C)], [{"id": i, "vault": {"id": VAULT}} for i in (B, C)]]
    assert sleeps and sleeps[0] >= 2  # the retry-after op asked for
    assert (op.calls, op.requests) == (2, 5)


def test_a_rate_limit_after_every_item_was_printed_asks_for_nothing_again(fake_op: FakeOp) -> None:
    fake_op.play({"stdout": stream(item(A), item(B)), "stderr": RATE_LIMIT_SHORT, "exit": 4})
    sleeps = Sleeps()
    op = client(fake_op, sleep=sleeps)

    batch = op.item_get_batch([A, B], VAULT)

    assert list(batch.details) == [A, B]
    assert len(fake_op.runs) == 1 and not sleeps
    assert (op.calls, op.requests) == (1, 2)


def test_an_item_printed_before_a_short_rate_limit_but_of_another_vault_is_asked_again(fake_op: FakeOp) -> None:
    """Only what counts as read (asked for, of this vault) leaves the retry: a decoy copy of B
    from another vault does not."""
    fake_op.play({"stdout": stream(item(A), item(B, vault_id=FOREIGN)), "stderr": RATE_LIMIT_SHORT, "exit": 4},
                 {"stdout": stream(item(B))})  # fmt: skip
    op = client(fake_op, sleep=Sleeps())

    batch = op.item_get_batch([A, B], VAULT)

    assert list(batch.details) == [A, B] and batch.details[B].summary.vault_id == VAULT
    assert [i["id"] for i in json.loads(fake_op.runs[1]["stdin"])] == [B]


@pytest.mark.parametrize(
    ("step", "error"),
    [
        ({"stderr": "[ERROR] 2023/03/10 20:47:00 account is not signed in\n", "exit": 1}, OpNotSignedIn),
    ],
)
def test_sign_in_failures_are_raised_as_for_a_single_read(
    fake_op: FakeOp, step: dict[str, Any], error: type[Exception]
) -> None:
    fake_op.play(step)

    with pytest.raises(error):
        client(fake_op, timeout=1, max_retries=1, sleep=Sleeps()).item_get_batch([A, B], VAULT)

    assert all(r["argv"][4] == "-" for r in fake_op.runs)  # retried as a batch, never item by item


def test_a_batch_that_times_out_is_not_retried_whole_its_items_are_read_alone(
    fake_op: FakeOp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "BATCH_TIMEOUT_SHARE_PER_ITEM", 0.0)  # the batch gets the plain 1 s
    fake_op.play({"sleep": 3}, {"stdout": json.dumps(item(A))}, {"stdout": json.dumps(item(B))})
    op = client(fake_op, timeout=1, max_retries=1, sleep=Sleeps())

    batch = op.item_get_batch([A, B], VAULT)

    assert list(batch.details) == [A, B] and batch.refetched == 2
    assert [r["argv"][4] for r in fake_op.runs] == ["-", A, B]  # one batch, then each item once


def test_what_a_batch_printed_before_its_timeout_is_kept_and_only_the_rest_is_read_alone(
    fake_op: FakeOp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow op printed two of three items, then hung: those two count (they cost their
    requests), only the third is read again. Decoy: an item cut in the middle is not taken."""
    monkeypatch.setattr(runner, "BATCH_TIMEOUT_SHARE_PER_ITEM", 0.0)  # the batch gets the plain 1 s
    printed = stream(item(A), item(B)) + stream(item(C))[:40]
    fake_op.play({"stdout": printed, "sleep_after": 3}, {"stdout": json.dumps(item(C))})
    op = client(fake_op, timeout=1, max_retries=1, sleep=Sleeps())

    batch = op.item_get_batch([A, B, C], VAULT)

    assert list(batch.details) == [A, B, C] and batch.refetched == 1
    assert [r["argv"][4] for r in fake_op.runs] == ["-", C]


def test_an_op_that_hangs_fails_the_read_with_a_timeout_after_the_single_reads_retries(
    fake_op: FakeOp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "BATCH_TIMEOUT_SHARE_PER_ITEM", 0.0)
    fake_op.play(*[{"sleep": 3}] * 4)

    with pytest.raises(OpTimeout, match="did not finish within 1 s"):
        client(fake_op, timeout=1, max_retries=1, sleep=Sleeps()).item_get_batch([A, B], VAULT)

    # The batch once, then the first item alone and its one retry: a hung op fails as before.
    assert [r["argv"][4] for r in fake_op.runs] == ["-", A, A]


def test_a_batch_gets_time_for_each_of_its_requests_where_a_single_read_gets_the_plain_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real fake `op` at 150 ms a request: three items alone fit a 2 s timeout each, and a batch
    of 25 (3.75 s of requests) must not time out for being a batch."""
    path = write_org(tmp_path, vaults=8, items=400)
    data = fake_account.load(path)
    monkeypatch.setenv("FAKE_OP_ACCOUNT", str(path))
    monkeypatch.setenv("FAKE_OP_LATENCY_MS", "150")
    active = [i for i in data["items"] if i.get("state", "ACTIVE") == "ACTIVE"]
    vault_id = max({i["vault_id"] for i in active}, key=lambda v: sum(1 for i in active if i["vault_id"] == v))
    ids = [i["id"] for i in active if i["vault_id"] == vault_id][:25]
    op = OpClient(op_bin=str(FAKE_OP), token=data["tokens"][0]["token"], timeout=2.0, max_retries=1,
                  fingerprint_key=b"batch-timeout", sleep=Sleeps())  # fmt: skip

    batch = op.item_get_batch(ids, vault_id)

    assert len(ids) == 25 and list(batch.details) == ids and batch.refetched == 0
    assert (op.calls, op.requests) == (1, 25)


def test_a_batch_refuses_ids_that_are_not_op_ids_before_running_anything(fake_op: FakeOp) -> None:
    with pytest.raises(OpInvalidArgument):
        client(fake_op).item_get_batch([A, "--vault=other"], VAULT)
    with pytest.raises(OpInvalidArgument):
        commands.item_get_batch([], VAULT)
    assert fake_op.runs == []


@pytest.mark.parametrize(("items", "seconds"), [(1, 60.0), (2, 66.0), (10, 114.0), (25, 204.0), (26, 204.0), (100, 204.0)])
def test_a_batchs_timeout_grows_a_tenth_per_item_up_to_what_25_items_get(items: int, seconds: float) -> None:
    """However large OP_ITEM_BATCH is, a hung batch plus its first item's retries must end inside
    the sync's stale-heartbeat window (vaults/sync.py STALE_AFTER), or a second worker would claim
    a sync that is still running. A single read, a decoy, keeps the plain timeout."""
    op = OpClient(op_bin=str(FAKE_OP), token="ops_x", timeout=60, max_retries=4, fingerprint_key=b"k")
    ids = [f"item{n:022d}" for n in range(items)]
    command = commands.item_get(ids[0], VAULT) if items == 1 else commands.item_get_batch(ids, VAULT)

    assert op._timeout_for(command) == pytest.approx(seconds)
