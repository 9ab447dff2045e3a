"""Invariant 1: no secret value leaves the worker.

The demo organisation plants a unique `CANARY-…` string in every strong secret (passwords, API
credentials, SSH private keys, OTP seeds, notes, password history). After a full sync through a
real Celery worker on Redis and PostgreSQL, none may appear in a database dump, in Redis, in the
logs, or on any page."""

from __future__ import annotations

import subprocess
import time

import pytest
import redis
from django.db import connection
from django.test import Client
from django.urls import reverse

from openclaw_web.roles import Role
from vaults.findings.models import HealthSnapshot
from vaults.models import Item, OpUser, SyncRun, Vault
from vaults.tasks import enqueue_sync

pytestmark = [pytest.mark.worker, pytest.mark.slow]

MARKER = "CANARY-"


@pytest.fixture
def org_sizes():
    return {"vaults": 23, "items": 487, "users": 52, "groups": 8}  # the default demo organisation


def _redis_dump(url: str) -> str:
    client = redis.Redis.from_url(url)
    parts: list[str] = []
    for key in client.scan_iter(count=1000):
        kind = client.type(key).decode()
        value = {
            "string": lambda: [client.get(key)],
            "list": lambda: client.lrange(key, 0, -1),
            "hash": lambda: [*client.hgetall(key).keys(), *client.hgetall(key).values()],
            "set": lambda: list(client.smembers(key)),
            "zset": lambda: [m for m, _ in client.zrange(key, 0, -1, withscores=True)],
        }.get(kind, lambda: [])()
        parts.append(key.decode(errors="replace"))
        parts.extend(v.decode(errors="replace") if isinstance(v, bytes) else str(v) for v in value if v is not None)
    return "\n".join(parts)


def _pg_dump() -> str:
    params = connection.settings_dict
    result = subprocess.run(
        ["pg_dump", "-h", params.get("HOST") or "127.0.0.1", "-U", params.get("USER") or "postgres", params["NAME"]],
        capture_output=True, text=True, timeout=120, check=True,
    )
    return result.stdout


def test_no_canary_reaches_the_database_redis_the_logs_or_any_page(fake_org, celery_worker, make_user, caplog):
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

    dump = _pg_dump()
    assert "vaults_secretfield" in dump  # the dump really holds the synced tables
    assert MARKER not in dump
    assert MARKER not in _redis_dump(celery_worker.redis_url)
    assert MARKER not in celery_worker.log()
    assert MARKER not in caplog.text

    admin = make_user("leak_admin", Role.ADMIN)
    client = Client()
    client.force_login(admin)
    urls = [reverse("dashboard"), reverse("vaults:list"), reverse("findings:list"), reverse("sync:status"),
            reverse("vaults:people"), reverse("audit:list")]
    urls += [reverse("vaults:detail", args=[pk]) for pk in Vault.objects.values_list("pk", flat=True)]
    urls += [reverse("vaults:item", args=[pk]) for pk in Item.objects.values_list("pk", flat=True)]
    urls += [reverse("vaults:person", args=[pk]) for pk in OpUser.objects.values_list("pk", flat=True)[:20]]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert MARKER not in response.content.decode(), f"a canary is rendered on {url}"
