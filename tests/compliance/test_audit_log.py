from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from compliance import audit
from compliance.models import AuditLogEntry

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

    assert b"cleanup.approved" in page.content and b"finding.accepted" not in page.content
    assert b"<html" not in partial.content and b"cleanup.approved" in partial.content
