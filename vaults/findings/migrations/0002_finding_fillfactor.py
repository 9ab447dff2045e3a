"""Leave free space in each page of the findings table so the `last_seen` update every run is a
HOT update (no index writes; last_seen is not indexed). PostgreSQL only; a no-op elsewhere."""

from django.db import migrations


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('ALTER TABLE "findings_finding" SET (fillfactor = 70)')


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('ALTER TABLE "findings_finding" RESET (fillfactor)')


class Migration(migrations.Migration):
    dependencies = [("findings", "0001_initial")]
    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
