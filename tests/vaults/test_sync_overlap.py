"""One pool for a sync's op calls (vaults/sync_pool.py): permission reads run beside the item
reads instead of after the last of them, and never more than OP_CONCURRENCY op processes at once.
Both read from the fake's call log, where each call's span lies inside its process's lifetime."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from vaults import sync
from vaults.fake_op.calllog import read_call_log
from vaults.models import SyncRun

pytestmark = pytest.mark.django_db

PEOPLE_READS = {"user list", "group list", "group user list", "vault user list", "vault group list"}


def spans(call_log: Path) -> list[tuple[float, float, str]]:
    """(start, end, command) of every logged call, in seconds."""
    rows = []
    for entry in read_call_log(call_log):
        end = datetime.fromisoformat(entry["ts"]).timestamp()
        rows.append((end - entry["duration_ms"] / 1000, end, entry["command"]))
    return rows


def most_at_once(rows: list[tuple[float, float, str]]) -> int:
    events = sorted([(start, 1) for start, _, _ in rows] + [(end, -1) for _, end, _ in rows])
    running = most = 0
    for _, step in events:
        running += step
        most = max(most, running)
    return most


def test_a_full_sync_reads_permissions_while_an_item_read_is_slow_and_stays_within_op_concurrency(
    fake_org: Any, settings: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The first `item get -` waits (up to 30 s; a wrapper around the fake records when) until
    a vault's grants were read: with one pool the free slots read permissions meanwhile; with a
    barrier after the item phase none could start before it ended."""
    slow = tmp_path / "slow"
    fake_org.call_log.touch()
    wrapper = tmp_path / "op-one-slow-batch"
    wrapper.write_text(
        "#!/bin/bash\n"
        f'if [[ "$*" == *" get - "* ]] && mkdir {slow} 2>/dev/null; then\n'
        f"  date +%s.%N > {slow}/start\n"
        f"  for _ in $(seq 300); do grep -q '\"command\": \"vault user list\"' {fake_org.call_log} && break; sleep 0.1; done\n"
        f"  {settings.OP_BIN} \"$@\"; code=$?\n"
        f"  date +%s.%N > {slow}/end; exit $code\n"
        "fi\n"
        f'exec {settings.OP_BIN} "$@"\n'
    )
    wrapper.chmod(0o755)
    settings.OP_BIN = str(wrapper)
    settings.OP_CONCURRENCY = 3
    settings.OP_ITEM_BATCH = 4
    monkeypatch.setenv("FAKE_OP_LATENCY_MS", "40")  # long enough for calls to overlap in the log

    started, _ = sync.start_sync(account=fake_org.add_account())
    result = sync.run_sync(sync_run_id=started.pk)

    assert result.status == SyncRun.Status.SUCCEEDED, result.error
    rows = spans(fake_org.call_log)
    assert most_at_once(rows) <= settings.OP_CONCURRENCY
    slow_start, slow_end = (float((slow / name).read_text()) for name in ("start", "end"))
    beside = [command for start, _, command in rows if slow_start < start < slow_end]
    assert PEOPLE_READS & set(beside), beside
    assert result.op_calls == len(rows)  # counted exactly, whatever ran beside what
