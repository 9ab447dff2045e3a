"""Daily usage counts for every day, kept by the database (issue #19: the usage audit at 5 million
events answers its counts from ItemUsageDaily, not from the raw events).

ItemUsageDaily held only the days past retention. From here on it holds every day: triggers on
ItemUsage add each insert's rows to their day's count in the same statement, so no code path (the
Events API import, a COPY, a test's factory) can store an event the counts miss, and the counts
equal the raw events by construction. On PostgreSQL one statement-level trigger per INSERT or
UPDATE works set-based on the statement's transition table (one grouped upsert for a page of
1,000 events); on SQLite (the demo) a row trigger does the same per row. Deletes leave the counts
alone on purpose: retention deletes raw events and keeps their counts.

Existing raw events are added to the counts once, here (days already summarised and raw events
both stored before this migration add up, as the usage audit used to add them).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

KEYS = "account_id, day, item_op_id, vault_op_id, user_op_id, action"
RAW_KEYS = "account_id, {day}, item_op_id, vault_op_id, user_op_id, action"
PG_DAY = "(timestamp AT TIME ZONE 'UTC')::date"  # the UTC day, whatever the session's time zone
SQLITE_DAY = "date(timestamp)"  # Django stores SQLite datetimes as UTC text

PG_FORWARD = f"""
CREATE FUNCTION vaults_itemusage_add_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO vaults_itemusagedaily ({KEYS}, "count")
  SELECT {RAW_KEYS.format(day=PG_DAY)}, count(*) FROM new_rows GROUP BY 1, 2, 3, 4, 5, 6
  ON CONFLICT ({KEYS}) DO UPDATE SET "count" = vaults_itemusagedaily."count" + excluded."count";
  RETURN NULL;
END $$;
CREATE FUNCTION vaults_itemusage_move_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE vaults_itemusagedaily d SET "count" = d."count" - o.n
  FROM (SELECT {RAW_KEYS.format(day=PG_DAY + " AS day")}, count(*) AS n FROM old_rows GROUP BY 1, 2, 3, 4, 5, 6) o
  WHERE (d.account_id, d.day, d.item_op_id, d.vault_op_id, d.user_op_id, d.action)
      = (o.account_id, o.day, o.item_op_id, o.vault_op_id, o.user_op_id, o.action);
  DELETE FROM vaults_itemusagedaily d USING (SELECT DISTINCT {RAW_KEYS.format(day=PG_DAY + " AS day")} FROM old_rows) o
  WHERE (d.account_id, d.day, d.item_op_id, d.vault_op_id, d.user_op_id, d.action)
      = (o.account_id, o.day, o.item_op_id, o.vault_op_id, o.user_op_id, o.action) AND d."count" <= 0;
  INSERT INTO vaults_itemusagedaily ({KEYS}, "count")
  SELECT {RAW_KEYS.format(day=PG_DAY)}, count(*) FROM new_rows GROUP BY 1, 2, 3, 4, 5, 6
  ON CONFLICT ({KEYS}) DO UPDATE SET "count" = vaults_itemusagedaily."count" + excluded."count";
  RETURN NULL;
END $$;
CREATE TRIGGER vaults_itemusage_counts_insert AFTER INSERT ON vaults_itemusage
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION vaults_itemusage_add_counts();
CREATE TRIGGER vaults_itemusage_counts_update AFTER UPDATE ON vaults_itemusage
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION vaults_itemusage_move_counts();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS vaults_itemusage_counts_insert ON vaults_itemusage;
DROP TRIGGER IF EXISTS vaults_itemusage_counts_update ON vaults_itemusage;
DROP FUNCTION IF EXISTS vaults_itemusage_add_counts();
DROP FUNCTION IF EXISTS vaults_itemusage_move_counts();
"""

_SQLITE_ADD = f"""INSERT INTO vaults_itemusagedaily ({KEYS}, "count")
  VALUES (NEW.account_id, date(NEW.timestamp), NEW.item_op_id, NEW.vault_op_id, NEW.user_op_id, NEW.action, 1)
  ON CONFLICT ({KEYS}) DO UPDATE SET "count" = "count" + 1;"""
_SQLITE_OLD = """account_id = OLD.account_id AND day = date(OLD.timestamp) AND item_op_id = OLD.item_op_id
  AND vault_op_id = OLD.vault_op_id AND user_op_id = OLD.user_op_id AND action = OLD.action"""
SQLITE_FORWARD = [
    f"CREATE TRIGGER vaults_itemusage_counts_insert AFTER INSERT ON vaults_itemusage BEGIN {_SQLITE_ADD} END",
    "CREATE TRIGGER vaults_itemusage_counts_update AFTER UPDATE OF account_id, timestamp, item_op_id, vault_op_id, "
    f'user_op_id, action ON vaults_itemusage BEGIN UPDATE vaults_itemusagedaily SET "count" = "count" - 1 WHERE {_SQLITE_OLD}; '
    f'DELETE FROM vaults_itemusagedaily WHERE {_SQLITE_OLD} AND "count" <= 0; {_SQLITE_ADD} END',
]
SQLITE_BACKWARD = ["DROP TRIGGER IF EXISTS vaults_itemusage_counts_insert", "DROP TRIGGER IF EXISTS vaults_itemusage_counts_update"]


def _day(vendor: str) -> str:
    return PG_DAY if vendor == "postgresql" else SQLITE_DAY


def forward(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    # In day order, as the triggers append later days: a range of days is then a contiguous
    # stretch of the table (in hash order, a month's rows sat in every block: 3x slower reads).
    # `WHERE true`: SQLite would read ON CONFLICT as part of the SELECT's join otherwise.
    backfill = (
        f'INSERT INTO vaults_itemusagedaily ({KEYS}, "count") '  # noqa: S608 - constants only
        f"SELECT {RAW_KEYS.format(day=_day(vendor))}, count(*) FROM vaults_itemusage WHERE true GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 2 "
        f'ON CONFLICT ({KEYS}) DO UPDATE SET "count" = vaults_itemusagedaily."count" + excluded."count"'
    )
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(backfill)
        if vendor == "postgresql":
            # The backfill queued its rows' (deferred) foreign-key checks; PostgreSQL refuses to
            # build the indexes below while they are pending, so they run now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for statement in [PG_FORWARD] if vendor == "postgresql" else SQLITE_FORWARD:
            cursor.execute(statement)


def backward(apps: Any, schema_editor: Any) -> None:
    """Drop the triggers and take the raw events back out of the counts (days past retention stay)."""
    vendor = schema_editor.connection.vendor
    day = _day(vendor)
    with schema_editor.connection.cursor() as cursor:
        for statement in [PG_BACKWARD] if vendor == "postgresql" else SQLITE_BACKWARD:
            cursor.execute(statement)
        cursor.execute(
            'UPDATE vaults_itemusagedaily SET "count" = "count" - (SELECT count(*) FROM vaults_itemusage r '  # noqa: S608
            f"WHERE r.account_id = vaults_itemusagedaily.account_id AND {day.replace('timestamp', 'r.timestamp')} = vaults_itemusagedaily.day "
            "AND r.item_op_id = vaults_itemusagedaily.item_op_id AND r.vault_op_id = vaults_itemusagedaily.vault_op_id "
            "AND r.user_op_id = vaults_itemusagedaily.user_op_id AND r.action = vaults_itemusagedaily.action)"
        )
        cursor.execute('DELETE FROM vaults_itemusagedaily WHERE "count" <= 0')


class Migration(migrations.Migration):
    dependencies = [
        ("vaults", "0009_search_trigram_indexes"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
        migrations.AddIndex(
            model_name="itemusagedaily",
            index=models.Index(fields=["day"], name="itemusagedaily_day"),
        ),
        migrations.AddIndex(
            model_name="itemusagedaily",
            index=models.Index(fields=["item_op_id", "day"], name="itemusagedaily_item_day"),
        ),
        migrations.AddIndex(
            model_name="itemusagedaily",
            index=models.Index(fields=["user_op_id", "day"], name="itemusagedaily_user_day"),
        ),
        migrations.AddIndex(
            model_name="itemusagedaily",
            index=models.Index(fields=["vault_op_id", "day"], name="itemusagedaily_vault_day"),
        ),
    ]
