"""Sessions: read from the shared cache where there is one, written through to the database."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import REPO_ROOT, TEST_CACHE_REDIS_URL

CACHED_DB = "django.contrib.sessions.backends.cached_db"
DASHBOARD = reverse("dashboard")


def _session_engine(**env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "CACHE_URL"} | env
    code = "import django; django.setup(); from django.conf import settings; print(settings.SESSION_ENGINE)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


def test_sessions_use_the_cache_only_where_every_process_shares_it() -> None:
    assert _session_engine(CACHE_URL=TEST_CACHE_REDIS_URL) == CACHED_DB
    # Each process's own memory: a sign-out in one would leave the session alive in another's copy.
    assert _session_engine() == "django.contrib.sessions.backends.db"


@pytest.fixture
def cached_sessions(settings, redis_cache):
    settings.SESSION_ENGINE = CACHED_DB
    return redis_cache


def _session_reads(client: Client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(DASHBOARD)
    assert response.status_code == 200
    return sum('"django_session"' in q["sql"] for q in captured.captured_queries)


def test_a_page_reads_the_session_from_the_cache_and_survives_its_loss(
    cached_sessions, client_for, viewer, transactional_db
) -> None:
    client = client_for(viewer)
    client.get(DASHBOARD)

    assert _session_reads(client) == 0
    cached_sessions.flushdb()  # Redis restarted empty: the database still has the session
    assert _session_reads(client) == 1
    assert _session_reads(client) == 0


def test_signing_out_ends_the_session_for_every_copy_of_its_cookie(
    settings, cached_sessions, client_for, viewer, transactional_db
) -> None:
    client = client_for(viewer)
    client.get(DASHBOARD)
    stolen = Client()  # the same session cookie elsewhere: a second browser, a copied cookie
    stolen.cookies.load({settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value})
    assert stolen.get(DASHBOARD).status_code == 200

    client.post(reverse("logout"))

    response = stolen.get(DASHBOARD)
    assert response.status_code == 302 and reverse("login") in response["Location"]
