"""On PostgreSQL, reject UPDATE and DELETE on the audit log at the database level, so even raw SQL
through the app's connection cannot rewrite a row. (TRUNCATE stays possible for the table owner:
the test runner flushes tables with it; the chain head printed on every report exposes a wiped log.)"""

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
"""

DROP = """
DROP TRIGGER IF EXISTS compliance_auditlog_no_update_delete ON compliance_auditlogentry;
DROP FUNCTION IF EXISTS compliance_auditlog_append_only();
"""


def create_trigger(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0001_initial")]
    operations = [migrations.RunPython(create_trigger, drop_trigger)]
