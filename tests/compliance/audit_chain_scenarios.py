"""Ways to tamper with the audit chain, done the way someone with database write access would (raw
SQL, the append-only trigger switched off as the table's owner can), shared by the PostgreSQL tests
(tests/compliance/test_audit_anchors.py) and the SQLite run (tests/compliance/sqlite_audit_chain.py)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.db import connection

from compliance import audit
from compliance.models import AuditLogEntry

TRIGGERS = {
    "compliance_auditlogentry": "compliance_auditlog_no_update_delete",
    "compliance_auditanchor": "compliance_auditanchor_no_update_delete",
}


def record(count: int, *, start: int = 0) -> None:
    for n in range(start, start + count):
        audit.record("test.event", actor_label="tester", target_type="thing", target_id=str(n), details={"n": n})


def run_sql(sql: str, params: list[Any] | None = None) -> None:
    """Run `sql` with the append-only triggers off (PostgreSQL; SQLite has none)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table, trigger in TRIGGERS.items():
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
        cursor.execute(sql, params or [])
        if connection.vendor == "postgresql":
            for table, trigger in TRIGGERS.items():
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")


def cut_tail(*, from_seq: int) -> None:
    run_sql("DELETE FROM compliance_auditlogentry WHERE seq >= %s", [from_seq])


def drop_anchor_rows() -> None:
    run_sql("DELETE FROM compliance_auditanchor")


def rehash_chain(*, scheme: str, key: str = "") -> None:
    """Recompute every row's hash and link, in order, as an attacker without the audit key can:
    plain SHA-256, or an HMAC under a key of their own choosing."""
    prev = audit.GENESIS_HASH
    for entry in list(AuditLogEntry.objects.order_by("seq")):
        entry.prev_hash, entry.hash_scheme = prev, scheme
        body = audit._canonical(entry)
        if scheme == "sha256":
            new = hashlib.sha256(body).hexdigest()
        else:
            new = hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
        run_sql("UPDATE compliance_auditlogentry SET prev_hash = %s, entry_hash = %s, hash_scheme = %s WHERE seq = %s",
                [prev, new, scheme, entry.seq])
        prev = new


def wipe() -> None:
    """Between the SQLite run's scenarios (the PostgreSQL tests roll back instead)."""
    for table in ("compliance_auditlogentry", "compliance_auditanchor", "reports_reportartifact"):
        run_sql(f"DELETE FROM {table}")  # noqa: S608 (the module's own table names)
