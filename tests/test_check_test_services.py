"""`make test` says exactly what to change when it cannot reach its servers (scripts/check_test_services.py)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "check_test_services.py"


def _run(**env: str) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, str(SCRIPT)], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_it_passes_against_the_servers_this_suite_uses() -> None:
    result = _run()
    assert result.returncode == 0, result.stderr
    assert "pg_dump, pg_restore and redis-server are here" in result.stdout


def test_a_postgresql_port_where_nothing_listens_is_named_with_the_variable_to_change() -> None:
    port = _closed_port()
    result = _run(TEST_DATABASE_URL=f"postgres://postgres@127.0.0.1:{port}/openclaw")
    assert result.returncode == 1
    assert f"Nothing answers at 127.0.0.1:{port}" in result.stderr
    assert "TEST_DATABASE_URL=postgres://USER@HOST:PORT/openclaw" in result.stderr


def test_an_unknown_role_is_told_how_to_create_it() -> None:
    result = _run(TEST_DATABASE_URL="postgres://no_such_role_here@127.0.0.1:5432/openclaw")
    assert result.returncode == 1
    assert "createuser --createdb no_such_role_here" in result.stderr


def test_redis_where_nothing_listens_is_named_with_the_variable_to_change() -> None:
    result = _run(TEST_REDIS_URL=f"redis://127.0.0.1:{_closed_port()}")
    assert result.returncode == 1
    assert "make test TEST_REDIS_URL=redis://HOST:PORT" in result.stderr


def test_password_and_peer_refusals_get_their_own_advice() -> None:
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import check_test_services as check
    finally:
        sys.path.remove(str(SCRIPT.parent))
    url = "postgres://app@db.internal:6543/openclaw"
    # libpq's own texts for the two refusals a trust-auth test server never produces.
    password = check.advice_for('FATAL:  password authentication failed for user "app"', url)
    assert "postgres://app:PASSWORD@db.internal:6543/openclaw" in password
    peer = check.advice_for('FATAL:  Peer authentication failed for user "app"', url)
    assert "postgres://app@127.0.0.1:6543/openclaw" in peer
    assert password != peer
