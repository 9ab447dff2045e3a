from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.compliance.alerts.receivers import SIGNING_KEY, HttpReceiver, start_http_receiver
from tests.smtp_inbox import Inbox, smtp_server


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[HttpReceiver]:
    monkeypatch.setenv("ALERT_HOOK_KEY", SIGNING_KEY)
    found, server = start_http_receiver()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def smtp(settings: Any) -> Iterator[Inbox]:
    yield from smtp_server(settings)
