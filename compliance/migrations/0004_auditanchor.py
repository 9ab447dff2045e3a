"""Audit anchors: the chain's newest (seq, hash) taken daily (compliance/audit_anchors.py). Append-only
like the log itself: on PostgreSQL the same trigger function rejects UPDATE and DELETE."""

from django.db import migrations, models

CREATE = """
CREATE TRIGGER compliance_auditanchor_no_update_delete
  BEFORE UPDATE OR DELETE ON compliance_auditanchor
  FOR EACH ROW EXECUTE FUNCTION compliance_auditlog_append_only();
"""

DROP = "DROP TRIGGER IF EXISTS compliance_auditanchor_no_update_delete ON compliance_auditanchor;"


def create_trigger(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0003_audit_hash_scheme")]

    operations = [
        migrations.CreateModel(
            name="AuditAnchor",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("seq", models.PositiveBigIntegerField()),
                ("entry_hash", models.CharField(max_length=64)),
                ("created_at", models.DateTimeField()),
                ("source", models.CharField(choices=[("daily", "Daily anchor (beat)"), ("verify", "verify_audit_log --write-anchor")], max_length=10)),
            ],
            options={"ordering": ["-created_at", "-pk"]},
        ),
        migrations.RunPython(create_trigger, drop_trigger),
    ]
