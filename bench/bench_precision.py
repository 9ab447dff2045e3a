"""Findings precision and recall on the labelled evaluation organisation.

Generates `vaults/fake_op/evaluation.py`'s organisation (2,000+ items, 200+ people, item usage
events, planted true cases and decoys per kind), syncs it through the real fake `op` subprocess
and the fake Events API into a throwaway database (`bench_precision`), computes findings and the
compliance report's access anomalies, and prints per kind: planted, decoys, true positives, false
positives, false negatives, precision, recall — then the decoys that fired, if any, and the time
each step took. The same table is in the README ("Findings precision on the evaluation
organisation"); tests/vaults/findings/test_evaluation.py asserts it.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import connection

REPO = Path(__file__).resolve().parent.parent


def run() -> None:
    from compliance.reports.anomaly_observations import observed_anomalies
    from vaults import sync
    from vaults.fake_op.evaluation import ANOMALY_KINDS, generate_evaluation_organisation
    from vaults.fake_op.events_server import start_events_server
    from vaults.findings.engine import compute_findings
    from vaults.findings.evaluation import observed_findings, score, table
    from vaults.findings.models import Finding
    from vaults.models import Account, SyncRun

    test_settings = settings.DATABASES["default"].setdefault("TEST", {})
    test_settings["NAME"] = "bench_precision" if connection.vendor == "postgresql" else None
    creation = connection.creation
    old_name = creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False, serialize=False)
    workdir = Path(tempfile.mkdtemp(prefix="bench-precision-"))
    stop = None
    try:
        started = time.perf_counter()
        data = generate_evaluation_organisation(now=datetime.now(UTC).replace(microsecond=0))
        path = workdir / "evaluation.json"
        path.write_text(json.dumps(data))
        generated = time.perf_counter() - started
        active = sum(1 for i in data["items"] if i["state"] == "ACTIVE")
        print(f"database: {connection.vendor}; evaluation organisation: {active} active items, {len(data['users'])} "
              f"people, {len(data['events']['itemusages'])} item uses; generated in {generated:.1f} s")  # fmt: skip
        url, stop = start_events_server(str(path))
        os.environ.update(FAKE_OP_ACCOUNT=str(path), FAKE_OP_CALL_LOG=str(workdir / "calls.jsonl"),
                          OP_SERVICE_ACCOUNT_TOKEN=data["tokens"][0]["token"], OP_EVENTS_TOKEN=data["events_token"])  # fmt: skip
        settings.OP_BIN = str(REPO / "bin" / "fake-op")
        account = Account.objects.create(name="evaluation", token_env="OP_SERVICE_ACCOUNT_TOKEN", events_url=url,
                                         events_token_env="OP_EVENTS_TOKEN")  # fmt: skip

        started = time.perf_counter()
        run_row, _ = sync.start_sync(account=account)
        run_row = sync.run_sync(sync_run_id=run_row.pk)
        synced = time.perf_counter() - started
        if run_row.status != SyncRun.Status.SUCCEEDED:
            print(f"sync failed: {run_row.error}")
            return
        started = time.perf_counter()
        compute_findings(account=account, sync_run=run_row)
        computed = time.perf_counter() - started
        started = time.perf_counter()
        observed = {**observed_findings(account), **observed_anomalies(account, now=datetime.now(UTC))}
        scores = score(data["labels"], observed, [*(str(k) for k in Finding.Kind), *ANOMALY_KINDS])
        scored = time.perf_counter() - started
        print(table(scores))
        for s in scores:
            for reason in s.decoys_fired:
                print(f"  decoy fired as {s.kind}: {reason}")
            if s.false_positives or s.false_negatives:
                print(f"  {s.kind}: false positives {s.false_positives[:5]}, false negatives {s.false_negatives[:5]}")
        print(f"run time: sync {synced:.1f} s (fake op subprocess per call), findings {computed:.1f} s, "
              f"scoring {scored:.1f} s")  # fmt: skip
    finally:
        if stop is not None:
            stop()
        creation.destroy_test_db(old_name, verbosity=0)
