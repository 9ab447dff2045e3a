#!/usr/bin/env bash
# Regenerate requirements/base.lock: every package the base install pulls, pinned to the versions in
# requirements/constraints.txt, each with its sha256 hashes (pip-tools). Run after any change to
# requirements/base.txt or constraints.txt; tests/security/test_dependency_audit.py fails until then.
# Install with:  pip install --require-hashes --no-deps -r requirements/base.lock
set -euo pipefail
cd "$(dirname "$0")/../requirements"
PIP_COMPILE="${PIP_COMPILE:-../.venv/bin/pip-compile}"
"$PIP_COMPILE" --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
    --constraint=constraints.txt --output-file=base.lock base.txt
