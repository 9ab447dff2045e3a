"""Which Redis databases this test run may flush: its own, so two runs on one host never collide.

The suite flushes the databases it uses (broker, result backend, fragment cache). Two checkouts
testing at once on one Redis — a developer's and CI's, or two developers' — would flush each
other's queues. So, unless `TEST_REDIS_URL` names a database explicitly, each run leases a pair of
databases (broker and cache) with `SET NX` on a key in database 0, and gives it back at exit. A
lease whose process is gone (same host, dead pid) is taken over; any other lease expires on its
own after `LEASE_SECONDS`.
"""

from __future__ import annotations

import atexit
import os
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

DEFAULT_SERVER = "redis://127.0.0.1:6379"
# Pairs (2,3) … (14,15): databases 0 and 1 stay for a developer's own broker and cache.
SLOT_PAIRS = tuple((n, n + 1) for n in range(2, 16, 2))
LEASE_KEY = "openclaw:test-lease:{broker}"
# Longer than the longest test run (~15 min here), short enough that a lost lease frees itself.
LEASE_SECONDS = 3 * 3600


@dataclass(frozen=True)
class RedisSlot:
    broker_url: str
    cache_url: str
    leased: bool


def _with_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


def _explicit_db(url: str) -> int | None:
    path = urlsplit(url).path.strip("/")
    return int(path) if path.isdigit() else None


def _worker_index() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _holder_is_gone(value: str) -> bool:
    host, _, pid = value.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def claim(url: str | None = None) -> RedisSlot:
    """The broker and cache URLs of this run (see the module docstring)."""
    url = url or os.environ.get("TEST_REDIS_URL") or DEFAULT_SERVER
    db = _explicit_db(url)
    if db is not None:
        # The processes of one xdist run (gw0, gw1, …) take the pairs that follow the one named.
        db += 2 * _worker_index()
        if db > 14:
            raise RuntimeError(f"TEST_REDIS_URL names database {db - 2 * _worker_index()}: its process {_worker_index()} "
                               f"would need databases {db} and {db + 1} (Redis has 0-15); name a lower one")
        return RedisSlot(broker_url=_with_db(url, db), cache_url=_with_db(url, (db + 1) % 16), leased=False)

    import redis

    client = redis.Redis.from_url(_with_db(url, 0))
    holder = _holder()
    for broker, cache in SLOT_PAIRS:
        key = LEASE_KEY.format(broker=broker)
        if not client.set(key, holder, nx=True, ex=LEASE_SECONDS):
            current = client.get(key)
            if current is None or not _holder_is_gone(current.decode()):
                continue
            client.set(key, holder, ex=LEASE_SECONDS)
        atexit.register(_release, client, key, holder)
        _HELD[_with_db(url, broker)] = (client, key, holder)
        return RedisSlot(broker_url=_with_db(url, broker), cache_url=_with_db(url, cache), leased=True)
    raise RuntimeError(
        f"every Redis database pair on {url} is leased by another test run (keys openclaw:test-lease:* in db 0); "
        "wait for them, or set TEST_REDIS_URL to a server or database of your own"
    )


# broker URL -> (client, lease key, holder) of the leases this process holds
_HELD: dict[str, tuple[object, str, str]] = {}


def release(slot: RedisSlot) -> None:
    """Give a leased pair back before exit: the pytest-xdist controller runs no test, so the pair
    its conftest import leased would only keep another run waiting."""
    held = _HELD.pop(slot.broker_url, None)
    if held is not None:
        _release(*held)


def _release(client: object, key: str, holder: str) -> None:
    import redis

    assert isinstance(client, redis.Redis)
    try:
        if client.get(key) == holder.encode():
            client.delete(key)
    except redis.RedisError:
        pass  # the lease expires by itself
