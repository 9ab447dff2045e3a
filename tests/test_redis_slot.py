"""Two test runs on one Redis lease different databases, so neither flushes the other's queue."""

from __future__ import annotations

import subprocess
import sys

import pytest
import redis

from tests import redis_slot

SERVER = "redis://127.0.0.1:6379"


def test_two_claims_get_different_database_pairs() -> None:
    first, second = redis_slot.claim(SERVER), redis_slot.claim(SERVER)
    redis_slot.release(first)  # given back at once: other runs on this host wait for free pairs
    redis_slot.release(second)
    assert first.leased and second.leased
    dbs = {first.broker_url, first.cache_url, second.broker_url, second.cache_url}
    assert len(dbs) == 4
    assert not any(url.endswith(("/0", "/1")) for url in dbs)


def test_a_lease_left_by_a_process_that_is_gone_is_taken_over() -> None:
    # A child process claims, then dies without releasing (os._exit skips atexit): a crashed run.
    code = "import os; from tests import redis_slot; print(redis_slot.claim(%r).broker_url, flush=True); os._exit(0)"
    orphaned = subprocess.run([sys.executable, "-c", code % SERVER], capture_output=True, text=True, check=True)
    url = orphaned.stdout.strip()
    db = int(url.rsplit("/", 1)[1])
    held_by = redis.Redis.from_url(SERVER + "/0").get(redis_slot.LEASE_KEY.format(broker=db))
    assert held_by is not None  # the dead run's lease is still there...
    taken = []
    for _ in redis_slot.SLOT_PAIRS:  # pairs already leased by live runs are passed over
        try:
            taken.append(redis_slot.claim(SERVER))
        except RuntimeError:
            break
    for slot in taken:
        redis_slot.release(slot)
    assert url in {slot.broker_url for slot in taken}  # ...and a later run takes it over


def test_a_database_named_in_the_url_is_used_as_is_without_a_lease(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    slot = redis_slot.claim(SERVER + "/9")
    assert (slot.broker_url, slot.cache_url, slot.leased) == (SERVER + "/9", SERVER + "/10", False)


def test_the_second_process_of_a_run_takes_the_pair_after_the_named_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    slot = redis_slot.claim(SERVER + "/9")
    assert (slot.broker_url, slot.cache_url, slot.leased) == (SERVER + "/11", SERVER + "/12", False)


def test_a_released_pair_is_free_for_the_next_claim() -> None:
    slot = redis_slot.claim(SERVER)
    assert redis.Redis.from_url(SERVER + "/0").get(redis_slot.LEASE_KEY.format(broker=slot.broker_url.rsplit("/", 1)[1]))
    redis_slot.release(slot)
    key = redis_slot.LEASE_KEY.format(broker=slot.broker_url.rsplit("/", 1)[1])
    assert redis.Redis.from_url(SERVER + "/0").get(key) is None


def test_a_named_database_too_high_for_the_second_process_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    with pytest.raises(RuntimeError, match="would need databases 16 and 17"):
        redis_slot.claim(SERVER + "/14")
