"""Active items per vault (partial index on NOT archived AND removed_at IS NULL): the vault list's
item count per vault and a vault page's item count become index-only scans.

Plain SQL (valid on PostgreSQL and SQLite) with no model state: the model is unchanged.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("vaults", "0001_initial")]
    operations = [
        migrations.RunSQL(
            'CREATE INDEX IF NOT EXISTS item_active_vault_idx ON "vaults_item" ("vault_id") '
            'WHERE NOT "archived" AND "removed_at" IS NULL',
            "DROP INDEX IF EXISTS item_active_vault_idx",
        )
    ]
