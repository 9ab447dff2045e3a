from __future__ import annotations

import uuid
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from compliance import audit
from compliance.audit_anchors import write_anchor
from compliance.database_role import grant_app_role
from compliance.models import AuditAnchor, AuditLogEntry
from compliance.reports.models import ReportArtifact

pytestmark = pytest.mark.django_db


def _three_entries():
    for n in range(3):
        audit.record("test.event", actor_label="tester", target_type="thing", target_id=str(n), details={"n": n})


def test_each_entry_chains_onto_the_previous_entrys_hash():
    _three_entries()

    first, second, third = AuditLogEntry.objects.order_by("seq")

    assert first.prev_hash == audit.GENESIS_HASH
    assert second.prev_hash == first.entry_hash
    assert third.prev_hash == second.entry_hash
    assert audit.verify_chain().ok


def test_the_orm_refuses_to_update_or_delete_entries():
    _three_entries()
    entry = AuditLogEntry.objects.first()

    with pytest.raises(PermissionError, match="append-only"):
        AuditLogEntry.objects.update(action="rewritten")
    with pytest.raises(PermissionError, match="append-only"):
        AuditLogEntry.objects.all().delete()
    with pytest.raises(PermissionError, match="append-only"):
        entry.save()
    with pytest.raises(PermissionError, match="append-only"):
        entry.delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only")
def test_postgresql_rejects_raw_sql_updates_and_deletes():
    _three_entries()

    for sql in ("UPDATE compliance_auditlogentry SET action = 'x'", "DELETE FROM compliance_auditlogentry"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)


def _disable_trigger(cursor):
    if connection.vendor == "postgresql":
        cursor.execute("ALTER TABLE compliance_auditlogentry DISABLE TRIGGER compliance_auditlog_no_update_delete")


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        ("UPDATE compliance_auditlogentry SET details = '{\"n\": 99}' WHERE seq = 2", "was edited"),
        ("DELETE FROM compliance_auditlogentry WHERE seq = 2", "missing"),
        ("UPDATE compliance_auditlogentry SET seq = seq + 10 WHERE seq = 1", "link broken"),
    ],
    ids=["edited", "deleted", "reordered"],
)
def test_verify_audit_log_detects_tampering_done_in_sql(tamper, expected):
    _three_entries()
    with connection.cursor() as cursor:
        _disable_trigger(cursor)
        cursor.execute(tamper)

    with pytest.raises(CommandError, match="BROKEN"):
        call_command("verify_audit_log")
    assert any(expected in problem for problem in audit.verify_chain().problems)


def test_verify_audit_log_reports_an_intact_chain(capsys):
    _three_entries()

    call_command("verify_audit_log")

    assert "intact: 3 entries" in capsys.readouterr().out


def test_sign_in_failed_sign_in_and_sign_out_are_logged(client, make_user):
    make_user("ada")

    client.post(reverse("login"), {"username": "ada", "password": "wrong password"})
    client.post(reverse("login"), {"username": "ada", "password": "correct horse battery staple 9"})
    client.post(reverse("logout"))

    # Creating ada is logged too (people.user_created); this test is about the sign-in entries.
    signins = AuditLogEntry.objects.filter(action__startswith="auth.").order_by("seq")
    actions = list(signins.values_list("action", "actor_label"))
    assert actions == [("auth.login_failed", "anonymous (ada)"), ("auth.login", "ada"), ("auth.logout", "ada")]
    assert "wrong password" not in str(list(AuditLogEntry.objects.values_list("details", flat=True)))


def test_exports_escape_formulas_and_carry_the_hashes(client_for, auditor):
    audit.record("test.event", actor_label="tester", target_label='=HYPERLINK("http://x","y")')
    client = client_for(auditor)

    csv_body = client.get(reverse("audit:export", args=["csv"])).content.decode()
    xlsx = client.get(reverse("audit:export", args=["xlsx"]))

    assert "'=HYPERLINK" in csv_body
    assert AuditLogEntry.objects.get(action="test.event").entry_hash in csv_body
    from io import BytesIO

    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(xlsx.content)).active
    labels = [row[6] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "'=HYPERLINK(\"http://x\",\"y\")" in labels
    assert AuditLogEntry.objects.filter(action="audit_log.exported").count() == 2


def test_audit_log_page_filters_by_action_and_returns_a_partial_for_htmx(client_for, auditor):
    audit.record("cleanup.approved", actor_label="april")
    audit.record("finding.accepted", actor_label="tom")
    client = client_for(auditor)

    page = client.get(reverse("audit:list"), {"action": "cleanup"})
    partial = client.get(reverse("audit:list"), {"action": "cleanup"}, headers={"HX-Request": "true"})

    # The full page's action <select> lists every action, so the table is checked in the partial.
    assert page.status_code == 200 and b"<html" in page.content
    assert b"<html" not in partial.content and b"cleanup.approved" in partial.content and b"finding.accepted" not in partial.content


# --- the app's PostgreSQL role (compliance/database_role.py) ----------------------------------
# Tests run as the superuser `postgres`, owner of every table, like the migrate step in production.
# A throw-away role gets exactly what `grant_app_role` grants in production; `SET ROLE` then acts as
# it. Roles and grants are transactional in PostgreSQL, so the test's rollback removes them.

postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="database roles are PostgreSQL's")


@contextmanager
def acting_as(role):
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET ROLE {role}")
            yield cursor
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


@pytest.fixture
def app_role():
    name = f"oc_app_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {name} NOLOGIN")
    grant_app_role(role=name)
    return name


@postgresql_only
@pytest.mark.parametrize(
    ("sql", "refusal"),
    [
        ("UPDATE compliance_auditlogentry SET action = 'rewritten'", "permission denied"),
        ("DELETE FROM compliance_auditlogentry WHERE seq = 3", "permission denied"),
        ("TRUNCATE compliance_auditlogentry", "permission denied"),
        ("ALTER TABLE compliance_auditlogentry DISABLE TRIGGER compliance_auditlog_no_update_delete", "must be owner"),
        ("ALTER TABLE compliance_auditlogentry DISABLE TRIGGER ALL", "must be owner"),
        ("DROP TRIGGER compliance_auditlog_no_update_delete ON compliance_auditlogentry", "must be owner"),
        ("UPDATE compliance_auditanchor SET seq = 1", "permission denied"),
        ("DELETE FROM compliance_auditanchor", "permission denied"),
        ("TRUNCATE compliance_auditanchor", "permission denied"),
    ],
    ids=["update", "delete", "truncate", "disable-trigger", "disable-all-triggers", "drop-trigger",
         "update-anchor", "delete-anchor", "truncate-anchor"],
)
def test_the_app_role_cannot_rewrite_or_unprotect_the_audit_log(app_role, sql, refusal):
    _three_entries()

    with pytest.raises(DatabaseError, match=refusal), acting_as(app_role) as cursor:
        cursor.execute(sql)

    assert AuditLogEntry.objects.count() == 3 and audit.verify_chain().ok


@postgresql_only
def test_the_app_role_appends_reads_and_verifies_the_audit_log_and_writes_other_tables(app_role, settings, tmp_path):
    settings.AUDIT_ANCHOR_FILE = tmp_path / "audit-anchor.json"
    _three_entries()

    with acting_as(app_role) as cursor:
        # Appending takes the advisory lock and draws the id from the identity sequence.
        entry = audit.record("test.as_app_role", actor_label="app")
        anchor = write_anchor(source=AuditAnchor.Source.VERIFY)
        report = audit.verify_chain()
        artifact = ReportArtifact.objects.create(kind="soc2", period="2026Q1", format="pdf", generator_label="app")
        ReportArtifact.objects.filter(pk=artifact.pk).update(status="done")
        ReportArtifact.objects.filter(pk=artifact.pk).delete()
        cursor.execute("SELECT current_user")
        who = cursor.fetchone()[0]

    assert who == app_role
    assert (entry.seq, anchor.seq) == (4, 4)
    assert report.ok and report.entries == 4


@postgresql_only
def test_grant_app_role_creates_a_login_role_with_no_other_power_and_can_run_again(monkeypatch):
    name = f"oc_app_{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("OC_TEST_APP_DB_PASSWORD", "a password for the throw-away role")

    call_command("grant_app_role", name, "--password-env", "OC_TEST_APP_DB_PASSWORD")
    call_command("grant_app_role", name, "--password-env", "OC_TEST_APP_DB_PASSWORD")

    with connection.cursor() as cursor:
        cursor.execute("SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = %s", [name])
        assert cursor.fetchone() == (True, False, False, False)
        cursor.execute("SELECT privilege_type FROM information_schema.role_table_grants"
                       " WHERE grantee = %s AND table_name = 'compliance_auditlogentry' ORDER BY 1", [name])
        assert [row[0] for row in cursor.fetchall()] == ["INSERT", "SELECT"]
        cursor.execute("SELECT privilege_type FROM information_schema.role_table_grants"
                       " WHERE grantee = %s AND table_name = 'reports_reportartifact' ORDER BY 1", [name])
        assert [row[0] for row in cursor.fetchall()] == ["DELETE", "INSERT", "SELECT", "UPDATE"]


@postgresql_only
def test_grant_app_role_refuses_the_owner_a_superuser_and_a_member_of_the_owner():
    member = f"oc_app_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        owner = cursor.fetchone()[0]
        cursor.execute(f"CREATE ROLE {member} NOLOGIN IN ROLE {owner}")

    for role, reason in ((owner, "superuser"), (member, "the tables' owner")):
        with pytest.raises(CommandError, match=reason):
            call_command("grant_app_role", role)
    with pytest.raises(CommandError, match="not a plain lower-case role name"):
        call_command("grant_app_role", "app; DROP TABLE x")
