"""A fake 1Password account driven through the real fake `op` subprocess."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT
from vaults import sync
from vaults.fake_op import account as fake_account
from vaults.fake_op.calllog import read_call_log
from vaults.fake_op.demo import generate_organisation
from vaults.fake_op.events_server import start_events_server
from vaults.fake_op.knobs import counter_path
from vaults.models import Account
from vaults.op import runner

FAKE_OP = REPO_ROOT / "bin" / "fake-op"
SMALL_ORG = {"vaults": 8, "items": 60, "users": 12, "groups": 5}


@dataclass
class FakeOrg:
    path: Path
    call_log: Path
    token: str
    events_url: str

    @property
    def data(self) -> dict[str, Any]:
        return fake_account.load(self.path)

    def calls(self) -> list[str]:
        return [entry["command"] for entry in read_call_log(self.call_log)] if self.call_log.exists() else []

    def reset_calls(self) -> None:
        self.call_log.unlink(missing_ok=True)

    def add_account(self, name: str = "Acme") -> Account:
        return Account.objects.create(name=name, token_env="OP_SERVICE_ACCOUNT_TOKEN", events_url=self.events_url,
                                      events_token_env="OP_EVENTS_TOKEN")


def write_org(tmp_path: Path, **sizes: int) -> Path:
    arguments: dict[str, Any] = {**SMALL_ORG, **sizes}
    data = generate_organisation(now=datetime.now(UTC), **arguments)
    path = tmp_path / "account.json"
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def org_sizes() -> dict[str, int]:
    """Override in a test module for a bigger organisation."""
    return SMALL_ORG


@pytest.fixture
def fake_org(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any, org_sizes: dict[str, int]) -> Iterator[FakeOrg]:
    """A generated organisation, the fake `op` as OP_BIN and the fake Events API."""
    path = write_org(tmp_path, **org_sizes)
    data = fake_account.load(path)
    url, stop = start_events_server(str(path))
    call_log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_OP_ACCOUNT", str(path))
    monkeypatch.setenv("FAKE_OP_CALL_LOG", str(call_log))
    monkeypatch.setenv("OP_SERVICE_ACCOUNT_TOKEN", data["tokens"][0]["token"])
    monkeypatch.setenv("OP_EVENTS_TOKEN", data["events_token"])
    monkeypatch.setenv("OP_BIN", str(FAKE_OP))
    settings.OP_BIN = str(FAKE_OP)
    settings.OP_MAX_RETRIES = 2
    try:
        yield FakeOrg(path=path, call_log=call_log, token=data["tokens"][0]["token"], events_url=url)
    finally:
        stop()


@pytest.fixture
def short_sleeps(monkeypatch: pytest.MonkeyPatch, fake_org: FakeOrg) -> list[float]:
    """The sync's client sleeps only until the fake's rate-limit window has reset (its start is in
    the fake's counter file) instead of the minute op asks for ("1 minutes" is its smallest unit),
    so a brief rate limit is waited out in test time. Returns the waits the client asked for."""
    sleeps: list[float] = []
    real = sync.op_client

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        window = float(os.environ.get("FAKE_OP_RATE_LIMIT_RESET_SECONDS") or 3)
        started = json.loads(counter_path(str(fake_org.path)).read_text())["window_start"]
        time.sleep(min(seconds, max(started + window - time.time(), 0) + 0.2))

    def client(token: str, **options: Any) -> runner.OpClient:
        made = real(token, **options)
        made._sleep = sleep
        return made

    monkeypatch.setattr(sync, "op_client", client)
    return sleeps
