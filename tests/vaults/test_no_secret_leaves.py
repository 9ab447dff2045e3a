"""Invariant 1: no secret value leaves the worker.

The demo organisation plants a unique `CANARY-…` string in every strong secret (passwords, API
credentials, SSH private keys, OTP seeds, notes, password history). After a full sync through a
real Celery worker on Redis and PostgreSQL, none may appear in a database dump, in Redis, in the
logs, or on any page — nor any 8-character piece of one (tests/security/canaries.py), so a
stored truncation fails too. Pages are rendered with the Redis fragment cache on, and the cache
is searched with the broker."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse

from openclaw_web.roles import Role
from tests.security.canaries import CanaryScanner, pg_dump, planted_secrets, redis_contents
from vaults.findings.models import HealthSnapshot
from vaults.models import Item, OpUser, SyncRun, Vault
from vaults.sync_queue import enqueue_sync

pytestmark = [pytest.mark.worker, pytest.mark.slow]

MARKER = "CANARY-"


@pytest.fixture
def org_sizes():
    return {"vaults": 23, "items": 487, "users": 52, "groups": 8}  # the default demo organisation


def test_no_canary_reaches_the_database_redis_the_logs_or_any_page(fake_org, celery_worker, make_user, caplog, settings):
    assert any(MARKER in c for c in fake_org.data["canaries"]), "the demo organisation plants no canary"
    assert MARKER in fake_org.path.read_text()
    account = fake_org.add_account()

    run, _ = enqueue_sync(account=account)
    deadline = time.monotonic() + 600
    while not HealthSnapshot.objects.filter(account=account).exists():
        run.refresh_from_db()
        assert run.status != SyncRun.Status.FAILED, run.error
        assert time.monotonic() < deadline, f"sync did not finish: {run.status} {run.counts}\n{celery_worker.log()[-3000:]}"
        time.sleep(1)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED
    assert Item.objects.count() >= 487

    scanner = CanaryScanner(planted_secrets(fake_org.data))
    assert scanner.find(fake_org.path.read_text()), "the scan finds nothing where every secret is planted"
    dump = pg_dump()
    assert b"vaults_secretfield" in dump[0][1]  # the dump really holds the synced tables
    scanner.assert_absent(dump)
    scanner.assert_absent([("worker log", celery_worker.log()), ("test log", caplog.text)])

    # The pages, rendered outside a transaction with the production cache (Redis, here the
    # broker's database, searched below with the queues): their fragments are cached. Fragments
    # live minutes (fragment_cache.FRAGMENT_SECONDS), so the pages that cache them come last and
    # Redis is read right after them.
    settings.CACHES = {"default": {"BACKEND": "openclaw_web.cache_backend.ReusedClientRedisCache",
                                   "LOCATION": celery_worker.redis_url}}
    admin = make_user("leak_admin", Role.ADMIN)
    client = Client()
    client.force_login(admin)
    urls = [reverse("vaults:item", args=[pk]) for pk in Item.objects.values_list("pk", flat=True)]
    urls += [reverse("vaults:person", args=[pk]) for pk in OpUser.objects.values_list("pk", flat=True)[:20]]
    urls += [reverse("sync:status"), reverse("vaults:people"), reverse("audit:list")]
    cached_pages = [reverse("dashboard"), reverse("vaults:list"), reverse("findings:list")]
    cached_pages += [reverse("vaults:detail", args=[pk]) for pk in Vault.objects.values_list("pk", flat=True)]
    pages = []
    for url in urls + cached_pages:
        response = client.get(url)
        assert response.status_code == 200, url
        pages.append((url, response.content))
    stored = redis_contents(celery_worker.redis_url)
    scanner.assert_absent(pages)

    fragment_keys = [key for where, key in stored if where.endswith(" key") and b":fragment:" in key]
    assert len(fragment_keys) >= len(cached_pages), "page fragments did not reach the Redis cache that is searched"
    scanner.assert_absent(stored)
