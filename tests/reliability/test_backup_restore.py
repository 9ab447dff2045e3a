"""Backup and restore, as docs/operations.md tells an operator to do it: `pg_dump -Fc` of the app
database, `pg_restore` into a fresh one, and the restored copy has every row and an intact audit
chain (`manage.py verify_audit_log` run against it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection

from compliance import audit
from compliance.models import AuditLogEntry
from tests.conftest import REPO_ROOT, _database_url_for_worker
from vaults import sync
from vaults.findings.engine import compute_findings
from vaults.models import SyncRun

pytestmark = [pytest.mark.slow]

KEY_TABLES = [
    "vaults_account", "vaults_vault", "vaults_item", "vaults_secretfield", "vaults_opuser", "vaults_vaultgrant",
    "vaults_syncrun", "findings_finding", "findings_healthsnapshot", "compliance_auditlogentry",
]  # fmt: skip


def _counts(dsn: str, tables: list[str]) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}  # noqa: S608 (table names: the test's own constants)


def test_a_pg_dump_restores_into_a_fresh_database_with_every_row_and_an_intact_audit_chain(
    fake_org: Any, transactional_db: None, tmp_path: Path, admin_user: Any
) -> None:
    account = fake_org.add_account()
    run, _ = sync.start_sync(account=account)
    assert sync.run_sync(sync_run_id=run.pk).status == SyncRun.Status.SUCCEEDED
    compute_findings(account=account)
    for n in range(5):
        audit.record("backup.test", actor=admin_user, target_type="test", target_id=str(n), details={"n": n})
    assert AuditLogEntry.objects.count() >= 5

    source_url = _database_url_for_worker()
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        present = {row[0] for row in cursor.fetchall()}
    tables = [t for t in KEY_TABLES if t in present]
    assert {"vaults_item", "compliance_auditlogentry"} <= set(tables), present
    restored_name = f"{connection.settings_dict['NAME']}_restored"
    restored_url = source_url.rsplit("/", 1)[0] + "/" + restored_name
    admin_url = source_url.rsplit("/", 1)[0] + "/postgres"
    dump = tmp_path / "openclaw.dump"

    subprocess.run(["pg_dump", "-Fc", "--no-owner", "-f", str(dump), source_url], check=True)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{restored_name}"')
        admin.execute(f'CREATE DATABASE "{restored_name}"')
    try:
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "-d", restored_url, str(dump)], check=True)

        restored = _counts(restored_url, tables)
        assert restored == _counts(source_url, tables)
        assert restored["vaults_item"] > 0 and restored["compliance_auditlogentry"] >= 5
        verified = subprocess.run(
            [sys.executable, "manage.py", "verify_audit_log"], cwd=REPO_ROOT, capture_output=True, text=True,
            env={**os.environ, "DATABASE_URL": restored_url},
        )  # fmt: skip
        assert verified.returncode == 0, verified.stderr
        assert f"Audit log intact: {restored['compliance_auditlogentry']} entries" in verified.stdout
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{restored_name}" WITH (FORCE)')
