"""Property at the sync level: whatever JSON (or bytes) `op` prints for any one command, the sync
ends in a clear state (succeeded, failed with a classified, readable reason, or waiting for the
rate-limit window), never with an unexpected exception; and a secret value in that output never
reaches the run's error text or a stored row. The parsers' own properties are in tests/vaults/op.

The other commands answer what the real fake `op` answered in a recorded sync, so the hostile
output meets the sync at every step, not only at the first call."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.security.hostile_org import sync_account
from tests.vaults.op.test_properties import op_like
from vaults import sync
from vaults.models import Account, Item, SecretField, SyncRun, Vault
from vaults.op.runner import OpClient

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

CANARY = "CANARY-property-7f3a9c"
_names = itertools.count(1)


def _with_canary_values(value: Any) -> Any:
    """Put the canary in every `value` key (where op prints a field's secret)."""
    if isinstance(value, dict):
        return {k: (CANARY if k == "value" else _with_canary_values(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_canary_values(v) for v in value]
    return value


outputs = op_like.map(_with_canary_values).map(lambda v: json.dumps(v).encode()) | st.binary(max_size=120)


def _assert_clear_outcome(run: SyncRun) -> None:
    run.refresh_from_db()
    event(f"{run.status}: {run.error[:50]}")
    assert run.status in (SyncRun.Status.SUCCEEDED, SyncRun.Status.FAILED, SyncRun.Status.WAITING)
    if run.status == SyncRun.Status.FAILED:
        assert run.error.strip(), "a failed run must say why"
        assert not run.error.startswith("Unexpected error"), run.error
        assert "Traceback" not in run.error
    assert CANARY not in run.error
    assert not Item.objects.filter(title__contains=CANARY).exists()
    assert not Vault.objects.filter(name__contains=CANARY).exists()
    assert not SecretField.objects.filter(label__contains=CANARY).exists()


def test_any_output_of_any_one_command_ends_the_sync_in_a_clear_state(fake_org, monkeypatch, settings):
    settings.OP_MAX_RETRIES = 0
    # `_run_once` is the one attempt that single calls and batched `item get -` reads share: a
    # batch's item list is on stdin, so it is part of what identifies the call.
    recorded: dict[tuple[tuple[str, ...], bytes | None], bytes] = {}
    names: set[str] = set()
    real_run_once = OpClient._run_once

    def recording(self: OpClient, command: Any, attempt: int) -> tuple[bytes, Any]:
        out, error = real_run_once(self, command, attempt)
        if error is None:
            recorded[(command.args, command.stdin)] = out
        names.add(command.name)
        return out, error

    monkeypatch.setattr(OpClient, "_run_once", recording)
    assert sync_account(fake_org.add_account("recorded")).status == SyncRun.Status.SUCCEEDED
    commands = sorted(names)
    assert {"vault list", "item list", "item get", "user list"} <= names

    @given(target=st.sampled_from(commands), output=outputs)
    @hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(target: str, output: bytes) -> None:
        def replay(self: OpClient, command: Any, attempt: int) -> tuple[bytes, None]:
            if command.name == target:
                return output, None
            return recorded.get((command.args, command.stdin), b"[]"), None

        monkeypatch.setattr(OpClient, "_run_once", replay)
        account = Account.objects.create(name=f"property-{next(_names)}")
        started, _ = sync.start_sync(account=account)
        _assert_clear_outcome(sync.run_sync(sync_run_id=started.pk))  # run_sync must not raise

    check()
