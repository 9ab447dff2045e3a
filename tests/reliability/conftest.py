"""Fault-injection fixtures: a private Redis this suite may kill and restart, and real Celery
workers on it (the shared `celery_worker` fixture reads TEST_REDIS_URL at import time and is
single-use; these reuse its helpers but take the broker URL and extra environment per call)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from tests.conftest import REPO_ROOT, TEST_REDIS_URL, RunningWorker, _database_url_for_worker
from tests.vaults.cleanup.conftest import FakeOrg as CleanupOrg

WORKER_START_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PrivateRedis:
    """A throwaway redis-server without persistence: a restart loses every queued message, as a
    Redis without `appendonly` (or a lost volume) would."""

    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--daemonize", "no"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 10
        while True:
            try:
                if redis.Redis.from_url(self.url, socket_timeout=1).ping():
                    return
            except redis.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"redis-server did not start:\n{self.log_path.read_text(errors='replace')[-2000:]}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: the broker vanishes with its queues, as in a crash or a container restart."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(port=free_port(), log_path=tmp_path / "redis.log")
    server.start()
    try:
        yield server
    finally:
        server.kill()


@dataclass
class Workers:
    """Starts real `celery worker` subprocesses on one broker; stops whatever is left at the end."""

    tmp_path: Path
    started: list[RunningWorker] = field(default_factory=list)

    def start(self, *, redis_url: str, extra_env: dict[str, str] | None = None) -> RunningWorker:
        from django.conf import settings


        env = {
            **os.environ,
            "DATABASE_URL": _database_url_for_worker(),
            "CELERY_BROKER_URL": redis_url,
            "CELERY_RESULT_BACKEND": redis_url,
            "FINGERPRINT_KEY": settings.FINGERPRINT_KEY,
            "SECRET_KEY": settings.SECRET_KEY,
            "DB_CONN_MAX_AGE": "0",
            **(extra_env or {}),
        }
        log_path = self.tmp_path / f"worker-{len(self.started)}.log"
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "openclaw_web", "worker", "--queues", "default,pdf",
                 "--concurrency", "2", "--loglevel", "INFO", "--without-gossip", "--without-mingle",
                 "--without-heartbeat"],
                cwd=REPO_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        worker = RunningWorker(process=process, log_path=log_path, redis_url=redis_url)
        self.started.append(worker)
        point_app_at(redis_url)
        deadline = time.monotonic() + WORKER_START_SECONDS
        while "ready." not in worker.log():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Celery worker did not start:\n{worker.log()[-4000:]}")
            time.sleep(0.2)
        return worker

    def stop_all(self) -> None:
        for worker in self.started:
            if worker.process.poll() is None:
                os.killpg(worker.process.pid, signal.SIGTERM)
                try:
                    worker.process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(worker.process.pid, signal.SIGKILL)
                    worker.process.wait()


def _reset_producer_pool() -> None:
    """The app's producer pool is bound to the broker URL it was first built with."""
    from openclaw_web.celery import app

    # Dropped, not closed: kombu's global pool registries may hand a closed pool out again.
    # Celery's private caches (not in celery-types): nothing public rebinds them to a new broker.
    app._pool = None  # type: ignore[attr-defined]
    app.amqp._producer_pool = None  # type: ignore[attr-defined]
    app._backend_cache = None  # type: ignore[attr-defined]  # the result backend, too, keeps its first URL
    app._local.__dict__.pop("backend", None)  # type: ignore[attr-defined]


def point_app_at(redis_url: str) -> None:
    """Make this process's `.delay()` publish to `redis_url` (not eagerly)."""
    from openclaw_web.celery import app

    if app.conf.broker_url != redis_url:
        _reset_producer_pool()
    app.conf.update(broker_url=redis_url, result_backend=redis_url, task_always_eager=False)


@pytest.fixture
def workers(transactional_db: None, tmp_path: Path) -> Iterator[Workers]:
    from openclaw_web.celery import app

    saved = {key: app.conf[key] for key in ("broker_url", "result_backend", "task_always_eager")}
    pool = Workers(tmp_path=tmp_path)
    try:
        yield pool
    finally:
        pool.stop_all()
        app.conf.update(saved)
        _reset_producer_pool()


@pytest.fixture
def shared_redis_url() -> str:
    """The shared test Redis, flushed: for faults that do not touch the broker."""
    import redis

    redis.Redis.from_url(TEST_REDIS_URL).flushdb()
    return TEST_REDIS_URL


def wait_for(predicate: Callable[[], bool], *, timeout: float, describe: Callable[[], str], poll: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(describe())
        time.sleep(poll)


def terminate_other_backends() -> int:
    """Drop every other session on the test database, as a PostgreSQL restart or failover
    would; returns how many were terminated."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [connection.settings_dict["NAME"]],
        )
        return int(cursor.fetchone()[0])


# --- fake organisations ------------------------------------------------------------------------

# The sync-side organisation (fake `op` + Events API), reused as is: `fake_org`, `org_sizes`.
from tests.vaults.conftest import fake_org, org_sizes  # noqa: E402, F401


@pytest.fixture
def cleanup_org(transactional_db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any) -> CleanupOrg:
    """The cleanup tests' small organisation (tests/vaults/cleanup/conftest.py), synced and with
    findings, in a transactional database a worker can see."""
    from vaults.fake_op import account as account_file
    from vaults.fake_op.demo import generate_organisation
    from vaults.findings.engine import compute_findings
    from vaults.models import Account

    data = generate_organisation(
        seed=3, vaults=8, items=40, users=12, groups=6, now=datetime.now(UTC).replace(microsecond=0)
    )
    path = tmp_path / "account.json"
    account_file.save(path, data)
    call_log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_OP_ACCOUNT", str(path))
    monkeypatch.setenv("FAKE_OP_CALL_LOG", str(call_log))
    monkeypatch.setenv("OP_SERVICE_ACCOUNT_TOKEN", data["tokens"][0]["token"])
    for knob in ("FAKE_OP_FAIL_COMMAND", "FAKE_OP_FAIL_TIMES", "FAKE_OP_CONFLICT_TIMES", "FAKE_OP_FAIL_CALL",
                 "FAKE_OP_HANG", "FAKE_OP_LATENCY_MS"):  # fmt: skip
        monkeypatch.delenv(knob, raising=False)
    settings.OP_BIN = str(REPO_ROOT / "bin" / "fake-op")
    monkeypatch.setenv("OP_BIN", settings.OP_BIN)
    settings.OP_MAX_RETRIES = 3
    account = Account.objects.create(name="Acme", token_env="OP_SERVICE_ACCOUNT_TOKEN")
    org = CleanupOrg(path=path, call_log=call_log, account=account, service_account_id=data["tokens"][0]["user_id"])
    org.sync()
    account.refresh_from_db()
    compute_findings(account=account)
    return org
