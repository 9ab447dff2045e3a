#!/usr/bin/env bash
# CI's proof of the README's first command: `make demo` from a fresh clone in an empty folder
# (no ../shared, no venv), so the venv is built from requirements/base.txt alone. It migrates,
# seeds and syncs a small organisation, serves it on a free port; we sign in and fetch the
# dashboard. Any missing import, failed step or non-200 page fails CI loudly.
# Usage: scripts/smoke-demo.sh CLONE_DIR   (a fresh clone; its venv goes to CLONE_DIR/.venv)
set -euo pipefail
clone="$1"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port); events_port=$(free_port)
log="$clone/var/smoke-demo.log"
mkdir -p "$clone/var"

started=$(date +%s)
echo "== make demo in $clone (base requirements only), port $port"
( cd "$clone" && DEMO_ITEMS="${DEMO_ITEMS:-120}" setsid make demo DEMO_PORT="$port" EVENTS_PORT="$events_port" ) >"$log" 2>&1 &
demo_pid=$!
stop() { kill -- "-$demo_pid" 2>/dev/null || kill "$demo_pid" 2>/dev/null || true; wait "$demo_pid" 2>/dev/null || true; }
trap stop EXIT

for _ in $(seq 1 600); do
  if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
       "http://127.0.0.1:$port/accounts/login/" 2>/dev/null; then break; fi
  if ! kill -0 "$demo_pid" 2>/dev/null; then
    echo "make demo exited before serving a page:" >&2; tail -n 60 "$log" >&2; exit 1
  fi
  sleep 1
done
ready=$(date +%s)
"$clone/.venv/bin/python" "$clone/scripts/smoke_signin.py" "http://127.0.0.1:$port" admin openclaw-demo \
  || { echo "--- make demo log:" >&2; tail -n 60 "$log" >&2; exit 1; }
if grep -E "Traceback|ModuleNotFoundError|Internal Server Error" "$log" >/dev/null; then
  echo "make demo logged an error:" >&2; grep -E -A5 "Traceback|ModuleNotFoundError|Internal Server Error" "$log" >&2; exit 1
fi
echo "== make demo: fresh clone to a signed-in dashboard in $((ready - started)) s"
