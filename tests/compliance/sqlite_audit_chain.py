"""The audit chain's tampering scenarios on SQLite, the demo's database, in a process of its own (the
suite's database is PostgreSQL). Also the upgrade: an old database's plain SHA-256 rows, migrated.
Prints one JSON line: per scenario, the problems found and `manage.py verify_audit_log`'s exit status.
Run by tests/compliance/test_audit_anchors.py."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import django

REPO_ROOT = Path(__file__).resolve().parent.parent.parent


def _exit_status() -> int:
    return subprocess.run([sys.executable, "manage.py", "verify_audit_log"], cwd=REPO_ROOT, env=os.environ,
                          capture_output=True, text=True, timeout=120).returncode


def _outcome() -> dict[str, Any]:
    from compliance import audit
    from compliance.audit_anchors import verify_anchors

    return {"problems": list(audit.verify_chain().problems + verify_anchors().problems), "exit": _exit_status()}


def _old_database() -> None:
    """The schema before keyed hashes, with two rows hashed as that version did (plain SHA-256)."""
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from compliance import audit

    call_command("migrate", "compliance", "0002", verbosity=0)
    prev = audit.GENESIS_HASH
    for seq in (1, 2):
        row = SimpleNamespace(seq=seq, created_at=timezone.now(), actor_id=None, actor_label="old", action="old.event",
                              target_type="", target_id="", target_label="", ip_address=None, details={"n": seq},
                              prev_hash=prev)
        entry_hash = hashlib.sha256(audit._canonical(row)).hexdigest()
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO compliance_auditlogentry (seq, created_at, actor_label, action, target_type, target_id,"
                " target_label, details, prev_hash, entry_hash) VALUES (%s, %s, %s, %s, '', '', '', %s, %s, %s)",
                [seq, row.created_at, "old", "old.event", json.dumps({"n": seq}), prev, entry_hash])
        prev = entry_hash
    call_command("migrate", verbosity=0)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openclaw_web.settings")
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from compliance.audit_anchors import write_anchor
    from compliance.models import AuditAnchor, AuditLogEntry
    from compliance.reports.models import ReportArtifact
    from compliance.reviews.periods import period_containing
    from tests.compliance.audit_chain_scenarios import cut_tail, drop_anchor_rows, record, rehash_chain, wipe

    assert connection.vendor == "sqlite", connection.vendor
    report: dict[str, Any] = {"vendor": connection.vendor}
    anchor_file = Path(settings.AUDIT_ANCHOR_FILE)

    def fresh() -> None:
        wipe()
        anchor_file.unlink(missing_ok=True)

    def generate_report() -> ReportArtifact:
        call_command("generate_report", "hygiene", "--period", period_containing(timezone.now()).label, "--format", "xlsx")
        return ReportArtifact.objects.latest("pk")

    _old_database()
    report["upgrade"] = {"schemes": list(AuditLogEntry.objects.order_by("seq").values_list("hash_scheme", flat=True)),
                         **_outcome()}

    fresh()
    record(5)
    write_anchor(source=AuditAnchor.Source.DAILY)
    generate_report()
    record(3, start=5)
    report["healthy"] = _outcome()

    fresh()
    record(5)
    write_anchor(source=AuditAnchor.Source.DAILY)
    record(3, start=5)
    cut_tail(from_seq=4)
    drop_anchor_rows()
    report["tail_cut"] = _outcome()

    fresh()
    record(3)
    artifact = generate_report()
    record(2, start=3)
    cut_tail(from_seq=artifact.chain_seq or 0)
    report["report_cut"] = _outcome()

    fresh()
    record(4)
    rehash_chain(scheme="sha256")
    report["plain_rehash"] = _outcome()

    fresh()
    record(4)
    rehash_chain(scheme="hmac-sha256", key="a key of the attacker's own")
    report["wrong_key"] = _outcome()

    print(json.dumps(report))


if __name__ == "__main__":
    main()
