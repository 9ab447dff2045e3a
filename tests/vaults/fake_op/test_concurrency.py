from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tests.vaults.fake_op.conftest import FAKE_OP
from vaults.fake_op import account

WORKERS = 8
EDITS_PER_WORKER = 3


def test_concurrent_writes_from_8_processes_all_apply(
    account_file: Path, token: str, demo_data: dict[str, Any]
) -> None:
    items = [i for i in demo_data["items"] if i["state"] == "ACTIVE"][:WORKERS]
    vault_versions = {i["vault_id"]: 0 for i in items}
    for item in items:
        vault_versions[item["vault_id"]] = next(
            v["content_version"] for v in demo_data["vaults"] if v["id"] == item["vault_id"]
        )
    env = {"PATH": os.environ["PATH"], "FAKE_OP_ACCOUNT": str(account_file), "OP_SERVICE_ACCOUNT_TOKEN": token}
    # Each worker runs its edits back to back in one shell, all 8 shells at once.
    scripts = [
        " && ".join(
            f'"{FAKE_OP}" item edit {item["id"]} --vault {item["vault_id"]} --tags w{n},e{k} >/dev/null'
            for k in range(EDITS_PER_WORKER)
        )
        for n, item in enumerate(items)
    ]
    processes = [subprocess.Popen(["bash", "-c", script], env=env) for script in scripts]
    assert [p.wait(timeout=60) for p in processes] == [0] * WORKERS

    data = json.loads(account_file.read_text())  # still valid JSON
    by_id = {i["id"]: i for i in data["items"]}
    for n, item in enumerate(items):
        assert by_id[item["id"]]["version"] == item["version"] + EDITS_PER_WORKER
        assert by_id[item["id"]]["tags"] == [f"w{n}", f"e{EDITS_PER_WORKER - 1}"]
    edits_per_vault: dict[str, int] = {}
    for item in items:
        edits_per_vault[item["vault_id"]] = edits_per_vault.get(item["vault_id"], 0) + EDITS_PER_WORKER
    for vault_id, edits in edits_per_vault.items():
        vault = account.find(data["vaults"], vault_id)
        assert vault is not None and vault["content_version"] == vault_versions[vault_id] + edits
