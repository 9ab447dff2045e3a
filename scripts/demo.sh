#!/usr/bin/env bash
# `make demo`: the product on the embedded default — SQLite, in-process tasks, the fake `op`
# and the fake Events API serving a generated organisation — on http://127.0.0.1:PORT.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${1:-8000}"
events_port="${2:-8765}"
py="${PY:-.venv/bin/python}"
export OPENCLAW_VAR_DIR="${OPENCLAW_VAR_DIR:-$PWD/var/demo}"
export DEBUG=0 HTTPS=0
export OP_BIN="$PWD/bin/fake-op"
export FAKE_OP_ACCOUNT="$OPENCLAW_VAR_DIR/fake-account.json"
export FAKE_OP_CALL_LOG="$OPENCLAW_VAR_DIR/op-calls.jsonl"
export EVENTS_API_URL="http://127.0.0.1:$events_port"
# Links in the demo's mails and alerts point at this server (openclaw_web/site_url.py).
export SITE_URL="${SITE_URL:-http://127.0.0.1:$port}"
# Mail (alerts, break-glass notices, reminders) goes to files under the var directory: the demo's
# addresses are @acme-demo.example, and nothing is sent anywhere. An EMAIL_HOST set for the demo wins.
if [ -z "${EMAIL_HOST:-}" ] && [ -z "${EMAIL_BACKEND:-}" ]; then
  export EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend EMAIL_FILE_PATH="$OPENCLAW_VAR_DIR/outbox"
fi
(umask 077 && mkdir -p "$OPENCLAW_VAR_DIR")  # keys and the database live here: owner only

if [ ! -f "$FAKE_OP_ACCOUNT" ]; then
  # DEMO_ITEMS makes a smaller organisation (CI's smoke of this script uses one).
  echo "Generating the demo organisation (23 vaults, ${DEMO_ITEMS:-487} items, 52 people)…"
  $py manage.py demo_account --out "$FAKE_OP_ACCOUNT" ${DEMO_ITEMS:+--items "$DEMO_ITEMS"}
fi
# Tokens of the *fake* account, read from its file: they unlock nothing real.
OP_SERVICE_ACCOUNT_TOKEN="$($py -c 'import json,os; print(json.load(open(os.environ["FAKE_OP_ACCOUNT"]))["tokens"][0]["token"])')"
OP_EVENTS_TOKEN="$($py -c 'import json,os; print(json.load(open(os.environ["FAKE_OP_ACCOUNT"]))["events_token"])')"
export OP_SERVICE_ACCOUNT_TOKEN OP_EVENTS_TOKEN

$py -m vaults.fake_op.events_server --account "$FAKE_OP_ACCOUNT" --host 127.0.0.1 --port "$events_port" \
  >"$OPENCLAW_VAR_DIR/events-api.log" 2>&1 &
events_pid=$!
trap 'kill $events_pid 2>/dev/null || true' EXIT

$py manage.py migrate --noinput -v0
$py manage.py collectstatic --noinput -v0
echo "Syncing the demo organisation through the fake op (about a minute the first time)…"
$py manage.py demo --events-url "$EVENTS_API_URL"
echo
echo "OpenClaw demo: http://127.0.0.1:$port/   (Ctrl-C to stop)"
$py manage.py runserver "127.0.0.1:$port" --noreload
