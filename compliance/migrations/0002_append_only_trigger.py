"""On PostgreSQL, reject UPDATE, DELETE and TRUNCATE on the audit log at the database level, so
even raw SQL through the app's connection cannot rewrite history unnoticed."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION compliance_auditlog_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'compliance_auditlogentry is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER compliance_auditlog_no_update_delete
  BEFORE UPDATE OR DELETE ON compliance_auditlogentry
  FOR EACH ROW EXECUTE FUNCTION compliance_auditlog_append_only();
CREATE TRIGGER compliance_auditlog_no_truncate
  BEFORE TRUNCATE ON compliance_auditlogentry
  FOR EACH STATEMENT EXECUTE FUNCTION compliance_auditlog_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS compliance_auditlog_no_truncate ON compliance_auditlogentry;
DROP TRIGGER IF EXISTS compliance_auditlog_no_update_delete ON compliance_auditlogentry;
DROP FUNCTION IF EXISTS compliance_auditlog_append_only();
"""


def create_trigger(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_trigger(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0001_initial")]
    operations = [migrations.RunPython(create_trigger, drop_trigger)]
