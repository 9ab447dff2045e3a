"""Shared fixtures: one persona per role, and a client signed in as each."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from openclaw_web.roles import Role
from tests import redis_slot
from tests.e2e import conftest as e2e_helpers

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(username: str, *roles: Role) -> User:
        user = User.objects.create_user(username=username, password="correct horse battery staple 9")
        for role in roles:
            user.groups.add(Group.objects.get_or_create(name=role.value)[0])
        return user

    return make


@pytest.fixture
def admin_user(make_user: Callable[..., User]) -> User:
    return make_user("ada_admin", Role.ADMIN)


@pytest.fixture
def team_lead(make_user: Callable[..., User]) -> User:
    return make_user("tom_lead", Role.TEAM_LEAD)


@pytest.fixture
def approver(make_user: Callable[..., User]) -> User:
    return make_user("april_approver", Role.APPROVER)


@pytest.fixture
def second_approver(make_user: Callable[..., User]) -> User:
    return make_user("bob_approver", Role.APPROVER)


@pytest.fixture
def compliance_officer(make_user: Callable[..., User]) -> User:
    return make_user("carol_compliance", Role.COMPLIANCE_OFFICER)


@pytest.fixture
def auditor(make_user: Callable[..., User]) -> User:
    return make_user("aud_auditor", Role.AUDITOR)


@pytest.fixture
def viewer(make_user: Callable[..., User]) -> User:
    return make_user("vic_viewer", Role.VIEWER)


@pytest.fixture
def client_for() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture(autouse=True)
def _empty_default_cache() -> Iterator[None]:
    """Every test starts with an empty default cache: the API's refused-call throttle counts per
    client address there, and every test client calls from 127.0.0.1."""
    from django.core.cache import cache

    cache.clear()
    yield


def pytest_configure(config: pytest.Config) -> None:
    """Two xdist workers sharing one var directory would overwrite each other's audit anchor,
    artifacts and outbox: `make test` loads tests.xdist_worker, which gives each its own."""
    from django.conf import settings

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker and getattr(config.option, "numprocesses", None):
        redis_slot.release(REDIS_SLOT)  # the controller: its workers lease their own pairs
    if worker and settings.VAR_DIR.name != worker:
        raise pytest.UsageError("run the suite on several processes through `make test` (or add `-p tests.xdist_worker` "
                                "with the repository on PYTHONPATH): each worker needs its own OPENCLAW_VAR_DIR")


# --- a real Celery worker on Redis ------------------------------------------------------------

# This run's own Redis databases (tests/redis_slot.py): flushing them never touches another run's.
REDIS_SLOT = redis_slot.claim()
TEST_REDIS_URL = REDIS_SLOT.broker_url
TEST_CACHE_REDIS_URL = REDIS_SLOT.cache_url


def _database_url_for_worker() -> str:
    """The worker must use the *test* database the test process just created."""
    from django.db import connection

    params = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.skip("a real worker needs PostgreSQL (run through `make test`)")
    user = params.get("USER") or "postgres"
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{params['NAME']}"


@dataclass
class RunningWorker:
    process: subprocess.Popen[bytes]
    log_path: Path
    redis_url: str

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the worker and its pool children, as an OOM killer or a lost machine would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)


def _reconfigure(app: Any, **conf: Any) -> None:
    """Change the app's broker/backend and forget what it cached for the previous ones (the
    connection pool, the producer pool, this thread's result backend): earlier eager tests may
    already have built them."""
    app.conf.update(conf)
    app._pool = None
    app.amqp._producer_pool = None
    app._local.__dict__.pop("backend", None)


@pytest.fixture
def celery_worker(transactional_db: None, tmp_path: Path) -> Iterator[RunningWorker]:
    """Start `celery worker` as a real subprocess on Redis and point this process's Celery app at
    the same broker (not eager), so `.delay()` really crosses the queue."""
    import redis
    from django.conf import settings

    from openclaw_web.celery import app

    redis.Redis.from_url(TEST_REDIS_URL).flushdb()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url_for_worker(),
        "CELERY_BROKER_URL": TEST_REDIS_URL,
        "CELERY_RESULT_BACKEND": TEST_REDIS_URL,
        "FINGERPRINT_KEY": settings.FINGERPRINT_KEY,
        "SECRET_KEY": settings.SECRET_KEY,
        "DB_CONN_MAX_AGE": "0",
    }
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "openclaw_web", "worker", "--queues", "default,pdf",
             "--concurrency", "2", "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=REPO_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
        )
    saved = {key: app.conf[key] for key in ("broker_url", "result_backend", "task_always_eager")}
    _reconfigure(app, broker_url=TEST_REDIS_URL, result_backend=TEST_REDIS_URL, task_always_eager=False)
    try:
        deadline = time.monotonic() + 60
        while "ready." not in log_path.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Celery worker did not start:\n{log_path.read_text(errors='replace')[-4000:]}")
            time.sleep(0.2)
        yield RunningWorker(process=process, log_path=log_path, redis_url=TEST_REDIS_URL)
    finally:
        _reconfigure(app, **saved)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# --- Debian's Chromium through Playwright (never a downloaded browser) ------------------------

@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One Chromium per test module, closed at the module's end: Playwright's sync API keeps an
    event loop running in this thread while it is open, which no other test should inherit."""
    if not e2e_helpers.CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(e2e_helpers.CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    yield page
    context.close()
