"""An account with an emergency vault, a production vault, a person and their uses; a real SMTP
server for the mails."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from tests.smtp_inbox import smtp_server
from tests.vaults import factories as f
from vaults.models import Account, Item, OpUser, Vault


@pytest.fixture
def now() -> datetime.datetime:
    return timezone.now()


@pytest.fixture
def account(db: None) -> Account:
    return f.make_account(name="acme")


@pytest.fixture
def emergency_vault(account: Account) -> Vault:
    return f.make_vault(account=account, name="Emergency Access", classification=Vault.Classification.EMERGENCY)


@pytest.fixture
def prod_vault(account: Account) -> Vault:
    return f.make_vault(account=account, name="Payments Production", classification=Vault.Classification.PRODUCTION)


@pytest.fixture
def root_login(emergency_vault: Vault, now: datetime.datetime) -> Item:
    """A break-glass login whose secret last changed 30 days ago."""
    item = f.make_item(vault=emergency_vault, title="AWS Production Root Login", category="LOGIN")
    f.make_secret(item=item, field_id="password", changed_at=now - datetime.timedelta(days=30))
    return item


@pytest.fixture
def dana(account: Account) -> OpUser:
    return f.make_op_user(account=account, name="Dana Oncall", email="dana@example.com")


def use(item: Item, person: OpUser, when: datetime.datetime, action: str = "reveal") -> None:
    f.make_usage(account=item.vault.account, user=person, item=item, when=when, action=action)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[str]:
        return [body for rcpts, body in self.messages if address in rcpts]


@pytest.fixture
def smtp(settings: Any) -> Iterator[Inbox]:
    """A real SMTP server on 127.0.0.1 that the app's SMTP backend delivers to."""
    yield from smtp_server(settings, Inbox())


@pytest.fixture(autouse=True)
def _fresh_rate_limit() -> None:
    """The link page's per-address counter lives in the cache: each test starts from zero."""
    from django.core.cache import cache

    cache.clear()
