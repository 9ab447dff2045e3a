"""Where the real `op` and Events API outputs live: `../shared/op-samples`, beside the checkout.

A user's clone has no `../shared`, so every test that reads a sample skips with this reason when
the folder is absent (CI and developers have it; `pytest -rs` prints the reason). `OP_SAMPLES_DIR`
names the folder elsewhere; with `OP_SAMPLES_REQUIRED=1` (CI's `make test-samples`) a missing
sample fails instead of skipping, so that run cannot pass by checking nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
OP_SAMPLES = Path(os.environ.get("OP_SAMPLES_DIR") or REPO_ROOT.parent / "shared" / "op-samples")
ABSENT_REASON = f"{OP_SAMPLES} is absent (only beside the team's checkout): real op outputs not checked"
REQUIRED = os.environ.get("OP_SAMPLES_REQUIRED") == "1"

if REQUIRED and not OP_SAMPLES.is_dir():
    raise RuntimeError(f"OP_SAMPLES_REQUIRED=1 but {OP_SAMPLES} is not a folder")


def sample_path(name: str) -> Path:
    path = OP_SAMPLES / name
    if not path.is_file():
        reason = ABSENT_REASON if not OP_SAMPLES.is_dir() else f"{path} is missing"
        if REQUIRED:
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def sample_json(name: str) -> Any:
    return json.loads(sample_path(name).read_text())
