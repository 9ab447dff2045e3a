"""Loaded with `-p tests.xdist_worker` (see `make test`) before Django's settings: under
pytest-xdist each worker gets its own var directory (audit anchor, artifacts, outbox, local keys),
so two workers never write the same file. tests/conftest.py refuses a worker without one."""

from __future__ import annotations

import os
from pathlib import Path

_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker:
    _base = os.environ.get("OPENCLAW_VAR_DIR") or str(Path(__file__).resolve().parent.parent / "var" / "test")
    os.environ["OPENCLAW_VAR_DIR"] = os.path.join(_base, _worker)
