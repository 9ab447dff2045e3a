#!/usr/bin/env bash
# Audit the hash-pinned base requirements (requirements/base.lock) for known vulnerabilities with
# pip-audit, honouring requirements/audit-allowlist.txt. See scripts/audit_dependencies.py for the
# rules and exit codes; docs/security.md for what it promises.
#   AUDIT_STRICT=1 scripts/audit-dependencies.sh   # CI with network: no vulnerability service = failure
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
exec "$PYTHON" scripts/audit_dependencies.py "$@"
