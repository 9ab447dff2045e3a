"""Before `make test`: can the suite reach its PostgreSQL and Redis, and are its tools here?

Run by `make test` (through scripts/ensure-services.sh, after it started local servers that were
stopped). Each failure prints what to change, because "connection refused" three minutes into a
test run teaches nobody anything. Exit status 1 on any problem.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from urllib.parse import urlsplit

import psycopg
import redis

DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/openclaw"
REDIS_URL = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379"


def _maintenance_dsn(url: str) -> str:
    """pytest-django creates `test_<name>` from the server's `postgres` database: check that one."""
    parts = urlsplit(url)
    return parts._replace(path="/postgres").geturl()


def advice_for(error: str, url: str) -> str:
    where = urlsplit(url)
    host, port, user = where.hostname or "localhost (socket)", where.port or 5432, where.username or "(OS user)"
    lowered = error.lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return (f"PostgreSQL at {host}:{port} asks user {user} for a password. Put it in the URL:\n"
                f"  make test TEST_DATABASE_URL=postgres://{user}:PASSWORD@{host}:{port}/openclaw\n"
                "or in ~/.pgpass, or allow trust for 127.0.0.1 in pg_hba.conf for a throw-away test server.")
    if "peer authentication failed" in lowered:
        return (f"PostgreSQL refused user {user} by peer authentication (a Unix-socket rule). Connect over TCP "
                f"instead: TEST_DATABASE_URL=postgres://{user}@127.0.0.1:{port}/openclaw, or run as the OS user "
                f"{user}, or change the `local` rule in pg_hba.conf.")
    if f'role "{where.username}" does not exist' in error:
        return (f"PostgreSQL has no role {user}: create it with `sudo -u postgres createuser --createdb {user}` "
                "or name another user in TEST_DATABASE_URL.")
    if "connection refused" in lowered or "could not connect" in lowered or "no such file" in lowered:
        return (f"Nothing answers at {host}:{port}. Start PostgreSQL (`pg_ctlcluster 15 main start` on Debian) or "
                "point the suite at the right server: make test TEST_DATABASE_URL=postgres://USER@HOST:PORT/openclaw")
    return "Check TEST_DATABASE_URL (postgres://USER[:PASSWORD]@HOST:PORT/NAME)."


def check_postgres() -> tuple[list[str], int | None]:
    try:
        with psycopg.connect(_maintenance_dsn(DATABASE_URL), connect_timeout=5) as conn:
            server = conn.info.server_version
            can_create = conn.execute(
                "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user"
            ).fetchone()
    except psycopg.OperationalError as exc:
        return [f"PostgreSQL: {str(exc).strip()}\n  {advice_for(str(exc), DATABASE_URL)}"], None
    problems = []
    if not (can_create and can_create[0]):
        problems.append("PostgreSQL: the suite's user may not create databases (pytest creates test_*): "
                        "ALTER ROLE <user> CREATEDB, or use another user in TEST_DATABASE_URL.")
    return problems, server // 10000


def check_client_tools(server_major: int | None) -> list[str]:
    problems = []
    for tool in ("pg_dump", "pg_restore"):
        path = shutil.which(tool)
        if path is None:
            problems.append(f"{tool} is missing (backup tests use it): apt-get install postgresql-client")
            continue
        out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
        found = re.search(r"(\d+)\.", out)
        major = int(found.group(1)) if found else 0
        if server_major is not None and major < server_major:
            problems.append(f"{tool} {major} is older than the PostgreSQL {server_major} server: it cannot dump it; "
                            f"install postgresql-client-{server_major}")
    if shutil.which("redis-server") is None:
        problems.append("redis-server is missing (reliability tests start their own): apt-get install redis-server")
    return problems


def check_redis() -> list[str]:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        where = urlsplit(REDIS_URL)
        return [f"Redis at {where.hostname}:{where.port or 6379}: {exc}\n  Start it (redis-server --daemonize yes) or "
                "point the suite at another: make test TEST_REDIS_URL=redis://HOST:PORT (the run leases its own "
                "databases there; name one, e.g. redis://HOST:PORT/9, to use that one and the next)."]
    return []


def main() -> int:
    pg_problems, server_major = check_postgres()
    problems = pg_problems + check_client_tools(server_major) + check_redis()
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    print(f"PostgreSQL {server_major} and Redis answer; pg_dump, pg_restore and redis-server are here.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
