"""Fixtures of the cache tests: pages' fragments and the API's answers share one cache."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from django.utils import timezone

from tests.conftest import TEST_CACHE_REDIS_URL
from tests.vaults.factories import make_account, make_item, make_vault
from vaults.findings.engine import compute_findings
from vaults.models import Vault


@pytest.fixture
def redis_cache(settings) -> Iterator[redis.Redis]:
    """The production backend (Redis), emptied around each test; a database of its own on the
    test Redis: the Celery fixtures flush theirs."""
    settings.CACHES = {
        "default": {"BACKEND": "openclaw_web.cache_backend.ReusedClientRedisCache", "LOCATION": TEST_CACHE_REDIS_URL}
    }
    client = redis.Redis.from_url(TEST_CACHE_REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def organisation(transactional_db) -> tuple:
    """One account, one production vault, three items with unclear names and their findings."""
    account = make_account(name="acme")
    vault = make_vault(account=account, name="Payments Production", classification=Vault.Classification.PRODUCTION)
    for n in range(3):
        make_item(vault=vault, title=f"Password {n}")
    compute_findings(account=account, now=timezone.now())
    return account, vault
