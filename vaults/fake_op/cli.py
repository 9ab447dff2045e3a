"""Entry point of the fake `op`: parse argv like op, authenticate, apply knobs, run, print.

Steps of one call (each process first sleeps FAKE_OP_START_MS, op's start-up and sign-in):
1. Strip global flags (`--format json`, `--account X`, ...) wherever they appear.
2. Match the longest known command ("vault user list" before "vault list") and parse its flags.
3. Count the call (and its requests: one per item for `item get -`, see batch.py) in the shared
   counter, sleep FAKE_OP_LATENCY_MS per request, apply the fault knobs.
4. Authenticate OP_SERVICE_ACCOUNT_TOKEN against the account file and run the command: reads under
   a shared lock, writes under an exclusive lock with an atomic replace.
5. Print op-shaped JSON (possibly mangled by a knob), log the call, exit with op's exit code.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from vaults.fake_op import account, batch, calllog, errors, knobs, render
from vaults.fake_op.commands import COMMANDS, Call, Command, item_detail

_GLOBAL_VALUE_FLAGS = frozenset({"format", "account", "config", "encoding", "session"})
_GLOBAL_BOOL_FLAGS = frozenset({"no-color", "iso-timestamps", "debug", "cache"})


def _strip_globals(argv: list[str]) -> list[str]:
    rest: list[str] = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        name = arg[2:].split("=", 1)[0] if arg.startswith("--") else ""
        if name in _GLOBAL_VALUE_FLAGS and "=" not in arg:
            index += 2
            continue
        if name in _GLOBAL_VALUE_FLAGS | _GLOBAL_BOOL_FLAGS:
            index += 1
            continue
        rest.append(arg)
        index += 1
    return rest


def parse(argv: list[str]) -> tuple[str, Command, list[str], dict[str, str | bool]]:
    words = _strip_globals(argv)
    positional_prefix = []
    for word in words:
        if word.startswith("-"):
            break
        positional_prefix.append(word)
    for size in (3, 2, 1):
        name = " ".join(positional_prefix[:size])
        if len(positional_prefix) >= size and name in COMMANDS:
            break
    else:
        first = positional_prefix[0] if positional_prefix else ""
        raise errors.usage(f'unknown command "{first}" for "op"')
    command = COMMANDS[name]
    args: list[str] = []
    flags: dict[str, str | bool] = {}
    rest = words[size:]
    index = 0
    while index < len(rest):
        arg = rest[index]
        index += 1
        if not arg.startswith("--"):
            args.append(arg)
            continue
        flag, has_value, value = arg[2:].partition("=")
        if flag in command.bool_flags:
            flags[flag] = value if has_value else True
        elif flag in command.value_flags:
            if not has_value:
                if index >= len(rest):
                    raise errors.usage(f"flag needs an argument: --{flag}")
                value = rest[index]
                index += 1
            flags[flag] = value
        else:
            raise errors.usage(f"unknown flag: --{flag}")
    return name, command, args, flags


def authenticate(data: account.Account, token: str | None, command_name: str) -> dict[str, Any]:
    if not token:
        raise errors.not_signed_in(command_name)
    known = [row for row in data.get("tokens", []) if row["token"] == token]
    if not known and not token.startswith("ops_"):
        raise errors.malformed_token()
    for row in known:
        expired = row.get("expires_at") and account.parse_ts(row["expires_at"]) <= account.utc_now()
        user = account.find(data["users"], row["user_id"])
        if row.get("revoked") or expired or user is None:
            break
        return user
    raise errors.service_account_deleted()


def _apply_knobs(name: str, command: Command, state: knobs.CallState, *, served: int = 1) -> None:
    knobs.sleep_latency(served)
    if knobs.should_hang(name):
        knobs.hang_forever()
    if knobs.should_fail_call(state) or knobs.should_fail_command(name, state):
        raise errors.internal_error()
    if knobs.rate_limited(state):
        raise errors.rate_limited(state.window_reset_in)
    if command.is_write and knobs.should_conflict(state):
        raise errors.conflict()


def _execute(
    path: str,
    name: str,
    command: Command,
    args: list[str],
    flags: dict[str, str | bool],
    state: knobs.CallState,
    token: str | None,
    *,
    handler: Callable[[Call], Any] | None = None,
    vault_ref: str | None = None,
) -> Any:
    handler = handler or command.handler
    if command.is_write:
        with account.locked_update(path) as data:
            user = authenticate(data, token, name)
            return handler(Call(data, user, args, flags, state))
    data = account.load_for_read(path, vault_ref=vault_ref, need_items=command.needs_items)
    user = authenticate(data, token, name)
    return handler(Call(data, user, args, flags, state))


def _flag_vault(flags: dict[str, str | bool]) -> str | None:
    vault_ref = flags.get("vault")
    return vault_ref if isinstance(vault_ref, str) else None


def _run_batch(
    path: str, name: str, command: Command, flags: dict[str, str | bool], refs: list[batch.Ref]
) -> tuple[int, bytes, str]:
    """`item get -` (vaults/fake_op/batch.py): one call, one request per item."""
    state = knobs.register_call(path, name, is_write=False, requests=len(refs))
    served = knobs.requests_allowed(state)
    _apply_knobs(name, command, state, served=served)
    flag_vault = _flag_vault(flags)
    # Only the --vault vault's items are loaded, unless an entry names another vault.
    vault_ref = flag_vault if all(r.vault_id in (None, flag_vault) for r in refs) else None

    def read(call: Call) -> batch.BatchOutput:
        output = batch.BatchOutput()
        for ref in refs[:served]:
            try:
                output.items.append(item_detail(call, ref.item_id, ref.vault_id or flag_vault))
            except errors.FakeOpError as error:
                output.failures.append(error)
                if batch.stops_at_first_error():
                    break
        return output

    output = _execute(path, name, command, [], flags, state, os.environ.get("OP_SERVICE_ACCOUNT_TOKEN"),
                      handler=read, vault_ref=vault_ref)  # fmt: skip
    text = "".join(render.dumps(item) + "\n" for item in output.items)
    stderr = "".join(failure.stderr() for failure in output.failures)
    exit_code = 1 if output.failures else 0
    if served < len(refs):
        refused = errors.rate_limited(state.window_reset_in)
        stderr, exit_code = stderr + refused.stderr(), refused.exit_code
    return exit_code, knobs.mangle_output(name, text), stderr


def run(argv: list[str], stdin: Callable[[], bytes] = lambda: b"") -> tuple[int, bytes, str, str, list[str]]:
    """Run one call; returns (exit code, stdout bytes, stderr text, command name, the item ids a
    batch `item get -` read from `stdin`)."""
    name = ""
    batch_ids: list[str] = []
    knobs.sleep_start()
    try:
        name, command, args, flags = parse(argv)
        path = os.environ.get("FAKE_OP_ACCOUNT", "")
        if not path or not os.path.exists(path):
            raise errors.FakeOpError(f"fake op: FAKE_OP_ACCOUNT does not name an account file: {path!r}")
        if batch.is_batch(name, args):
            refs = batch.read_refs(stdin())
            batch_ids = [ref.item_id for ref in refs]
            return (*_run_batch(path, name, command, flags, refs), name, batch_ids)
        state = knobs.register_call(path, name, is_write=command.is_write)
        _apply_knobs(name, command, state)
        result = _execute(path, name, command, args, flags, state, os.environ.get("OP_SERVICE_ACCOUNT_TOKEN"),
                          vault_ref=_flag_vault(flags))  # fmt: skip
    except errors.FakeOpError as error:
        return error.exit_code, b"", error.stderr(), name, batch_ids
    text = "" if result is None else render.dumps(result) + "\n"
    return 0, knobs.mangle_output(name, text), "", name, batch_ids


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    started = time.monotonic()
    exit_code, stdout, stderr, name, batch_ids = run(argv, stdin=sys.stdin.buffer.read)
    sys.stdout.buffer.write(stdout)
    sys.stdout.flush()
    sys.stderr.write(stderr)
    log_path = os.environ.get("FAKE_OP_CALL_LOG")
    if log_path:
        calllog.append_call(
            log_path,
            {
                "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "argv": calllog.scrub_argv(argv, os.environ.get("OP_SERVICE_ACCOUNT_TOKEN")),
                "command": name,
                "exit_code": exit_code,
                "pid": os.getpid(),
                **({"items": batch_ids} if batch_ids else {}),
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            },
        )
    return exit_code
