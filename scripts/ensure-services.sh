#!/usr/bin/env bash
# `make test` needs PostgreSQL and Redis: start local ones that are installed but stopped, then
# check the servers the suite will really use (TEST_DATABASE_URL, TEST_REDIS_URL) and the tools it
# runs (pg_dump/pg_restore no older than the server, redis-server), saying what to change if not.
set -euo pipefail
cd "$(dirname "$0")/.."
py="${PY:-.venv/bin/python}"

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }
local_url() { case "$1" in *@127.0.0.1*|*@localhost*|*://127.0.0.1*|*://localhost*|"") return 0;; *) return 1;; esac; }

if local_url "${TEST_DATABASE_URL:-}" && ! pg_up && command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
  echo "PostgreSQL is stopped: starting it"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi

if local_url "${TEST_REDIS_URL:-}" && ! redis_up && command -v redis-server >/dev/null; then
  echo "Redis is stopped: starting it"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  for _ in $(seq 1 20); do redis_up && break; sleep 0.5; done
fi

exec "$py" scripts/check_test_services.py
