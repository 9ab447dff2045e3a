"""Uses per (day, action) in an account, kept by the database like the rollups of 0012.

Measured on the 5M-event benchmark (bench/bench_usage.py): the timeline of a filter with no vault,
item or person (everything, or one action) summed ItemUsageVaultDay, ~600 rows a day (100 vaults
x 6 actions), 240,000 rows over 13 months; this table holds ~6 rows a day. Same triggers as 0012
(PostgreSQL: a statement trigger on the transition tables; SQLite: row triggers), deletes left
alone so retention keeps the counts. Backfilled from ItemUsageVaultDay, which holds every day.

The daily counts' per-person index becomes covering: the items of one person or one group's
members read an index-only range per person (0012 did the same per item).
"""

from __future__ import annotations

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

TABLE = "vaults_itemusageaccountday"
KEYS = "account_id, day, action"
PG_DAY = "(timestamp AT TIME ZONE 'UTC')::date"  # the UTC day, whatever the session's time zone


def _pg_grouped(source: str) -> str:
    return f"SELECT account_id, {PG_DAY} AS day, action, count(*) AS n FROM {source} GROUP BY 1, 2, 3"  # noqa: S608 - constants


PG_FORWARD = f"""
CREATE FUNCTION vaults_itemusage_add_account_day() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO {TABLE} ({KEYS}, "count") SELECT account_id, day, action, n FROM ({_pg_grouped("new_rows")}) g
  ON CONFLICT ({KEYS}) DO UPDATE SET "count" = {TABLE}."count" + excluded."count";
  RETURN NULL;
END $$;
CREATE FUNCTION vaults_itemusage_move_account_day() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE {TABLE} d SET "count" = d."count" - o.n FROM ({_pg_grouped("old_rows")}) o
  WHERE (d.account_id, d.day, d.action) = (o.account_id, o.day, o.action);
  DELETE FROM {TABLE} d WHERE d."count" <= 0;
  INSERT INTO {TABLE} ({KEYS}, "count") SELECT account_id, day, action, n FROM ({_pg_grouped("new_rows")}) g
  ON CONFLICT ({KEYS}) DO UPDATE SET "count" = {TABLE}."count" + excluded."count";
  RETURN NULL;
END $$;
CREATE TRIGGER vaults_itemusage_account_day_insert AFTER INSERT ON vaults_itemusage
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION vaults_itemusage_add_account_day();
CREATE TRIGGER vaults_itemusage_account_day_update AFTER UPDATE ON vaults_itemusage
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION vaults_itemusage_move_account_day();
"""  # noqa: S608 - constants only
PG_BACKWARD = """
DROP TRIGGER IF EXISTS vaults_itemusage_account_day_insert ON vaults_itemusage;
DROP TRIGGER IF EXISTS vaults_itemusage_account_day_update ON vaults_itemusage;
DROP FUNCTION IF EXISTS vaults_itemusage_add_account_day();
DROP FUNCTION IF EXISTS vaults_itemusage_move_account_day();
"""

_SQLITE_ADD = (f'INSERT INTO {TABLE} ({KEYS}, "count") VALUES (NEW.account_id, date(NEW.timestamp), NEW.action, 1) '  # noqa: S608
               f'ON CONFLICT ({KEYS}) DO UPDATE SET "count" = "count" + 1;')  # fmt: skip
_SQLITE_OLD = "account_id = OLD.account_id AND day = date(OLD.timestamp) AND action = OLD.action"
SQLITE_FORWARD = [
    f"CREATE TRIGGER vaults_itemusage_account_day_insert AFTER INSERT ON vaults_itemusage BEGIN {_SQLITE_ADD} END",
    "CREATE TRIGGER vaults_itemusage_account_day_update AFTER UPDATE OF account_id, timestamp, action ON vaults_itemusage "  # noqa: S608
    f'BEGIN UPDATE {TABLE} SET "count" = "count" - 1 WHERE {_SQLITE_OLD}; DELETE FROM {TABLE} WHERE {_SQLITE_OLD} AND "count" <= 0; '
    f"{_SQLITE_ADD} END",
]
SQLITE_BACKWARD = ["DROP TRIGGER IF EXISTS vaults_itemusage_account_day_insert", "DROP TRIGGER IF EXISTS vaults_itemusage_account_day_update"]


def forward(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cursor:
        # `WHERE true`: SQLite would read ON CONFLICT as part of the SELECT's join otherwise (0012).
        cursor.execute(f'INSERT INTO {TABLE} ({KEYS}, "count") SELECT {KEYS}, sum("count") '  # noqa: S608 - constants
                       "FROM vaults_itemusagevaultday WHERE true GROUP BY 1, 2, 3 ORDER BY 2")  # fmt: skip
        for statement in [PG_FORWARD] if vendor == "postgresql" else SQLITE_FORWARD:
            cursor.execute(statement)
        if vendor == "postgresql":
            cursor.execute(f"ANALYZE {TABLE}")


def backward(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cursor:
        for statement in [PG_BACKWARD] if vendor == "postgresql" else SQLITE_BACKWARD:
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("vaults", "0012_usage_rollups"),
    ]

    operations = [
        migrations.CreateModel(
            name="ItemUsageAccountDay",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField()),
                ("action", models.CharField(blank=True, max_length=60)),
                ("count", models.PositiveIntegerField()),
                ("account", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="vaults.account")),
            ],
            options={
                "indexes": [models.Index(fields=["day"], name="usageaccountday_day")],
                "constraints": [models.UniqueConstraint(fields=("account", "day", "action"), name="usageaccountday_unique")],
            },
        ),
        migrations.RunPython(forward, backward),
        migrations.RemoveIndex(model_name="itemusagedaily", name="itemusagedaily_user_day"),
        migrations.AddIndex(
            model_name="itemusagedaily",
            index=models.Index(fields=["user_op_id", "day"], include=("account_id", "item_op_id", "action", "count"),
                               name="itemusagedaily_user_day_cov"),
        ),
    ]
