"""Coarser usage rollups kept by the database (issue #19: the usage audit at 5 million events).

The daily counts of 0010 barely compress spread-out usage (99.4 % of the raw rows in the
benchmark), so broad filters still read ~all matching uses. Four rollups drop a dimension or a
day: per (day, person, action), (month, person, action), (day, vault, action) and
(month, item, action). Like 0010, triggers on ItemUsage keep them equal to the raw events
(PostgreSQL: one statement trigger per INSERT/UPDATE on the transition tables; SQLite: row
triggers), and deletes leave them alone, so retention keeps them.

The daily counts' per-item index becomes covering (index-only ranges per item). An index on (client_ip, timestamp) in pattern order answers an IP prefix filter, which only raw
events can answer.

The backfill reads ItemUsageDaily, not the raw events: it holds every day, including days past
retention whose raw events are gone.
"""

from __future__ import annotations

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

# table -> (its key columns, each column's expression over an ItemUsage row as {day}/{month})
ROLLUPS: dict[str, list[tuple[str, str]]] = {
    "vaults_itemusagepersonday": [("account_id", "account_id"), ("day", "{day}"), ("user_op_id", "user_op_id"), ("action", "action")],
    "vaults_itemusagepersonmonth": [("account_id", "account_id"), ("month", "{month}"), ("user_op_id", "user_op_id"),
                                    ("action", "action")],
    "vaults_itemusagevaultday": [("account_id", "account_id"), ("day", "{day}"), ("vault_op_id", "vault_op_id"), ("action", "action")],
    "vaults_itemusageitemmonth": [("account_id", "account_id"), ("month", "{month}"), ("item_op_id", "item_op_id"), ("action", "action")],
}  # fmt: skip
PG_DAY = "(timestamp AT TIME ZONE 'UTC')::date"  # the UTC day, whatever the session's time zone
PG_MONTH = "date_trunc('month', timestamp AT TIME ZONE 'UTC')::date"
SQLITE_DAY = "date(timestamp)"  # Django stores SQLite datetimes as UTC text
SQLITE_MONTH = "date(timestamp, 'start of month')"


def _columns(table: str) -> str:
    return ", ".join(c for c, _ in ROLLUPS[table])


def _exprs(table: str, day: str, month: str, prefix: str = "") -> list[str]:
    return [e.format(day=day.replace("timestamp", prefix + "timestamp"), month=month.replace("timestamp", prefix + "timestamp"))
            if "{" in e else prefix + e for _, e in ROLLUPS[table]]  # fmt: skip


def _pg_add(table: str, source: str) -> str:
    cols, exprs = _columns(table), _exprs(table, PG_DAY, PG_MONTH)
    groups = ", ".join(str(n + 1) for n in range(len(exprs)))
    return (f'INSERT INTO {table} ({cols}, "count") SELECT {", ".join(exprs)}, count(*) FROM {source} GROUP BY {groups} '
            f'ON CONFLICT ({cols}) DO UPDATE SET "count" = {table}."count" + excluded."count";')  # fmt: skip


def _pg_take(table: str) -> str:
    cols, exprs = _columns(table), _exprs(table, PG_DAY, PG_MONTH)
    named = ", ".join(f"{e} AS {c}" for (c, _), e in zip(ROLLUPS[table], exprs, strict=True))
    groups = ", ".join(str(n + 1) for n in range(len(exprs)))
    match = f"(d.{cols.replace(', ', ', d.')}) = (o.{cols.replace(', ', ', o.')})"
    return (f'UPDATE {table} d SET "count" = d."count" - o.n FROM (SELECT {named}, count(*) AS n FROM old_rows GROUP BY {groups}) o '
            f"WHERE {match}; "
            f'DELETE FROM {table} d USING (SELECT DISTINCT {named} FROM old_rows) o WHERE {match} AND d."count" <= 0;')  # fmt: skip


PG_FORWARD = f"""
CREATE FUNCTION vaults_itemusage_add_rollups() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {" ".join(_pg_add(t, "new_rows") for t in ROLLUPS)}
  RETURN NULL;
END $$;
CREATE FUNCTION vaults_itemusage_move_rollups() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {" ".join(_pg_take(t) for t in ROLLUPS)}
  {" ".join(_pg_add(t, "new_rows") for t in ROLLUPS)}
  RETURN NULL;
END $$;
CREATE TRIGGER vaults_itemusage_rollups_insert AFTER INSERT ON vaults_itemusage
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION vaults_itemusage_add_rollups();
CREATE TRIGGER vaults_itemusage_rollups_update AFTER UPDATE ON vaults_itemusage
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION vaults_itemusage_move_rollups();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS vaults_itemusage_rollups_insert ON vaults_itemusage;
DROP TRIGGER IF EXISTS vaults_itemusage_rollups_update ON vaults_itemusage;
DROP FUNCTION IF EXISTS vaults_itemusage_add_rollups();
DROP FUNCTION IF EXISTS vaults_itemusage_move_rollups();
"""


def _sqlite_add(table: str) -> str:
    cols = _columns(table)
    values = ", ".join(_exprs(table, SQLITE_DAY, SQLITE_MONTH, prefix="NEW."))
    return f'INSERT INTO {table} ({cols}, "count") VALUES ({values}, 1) ON CONFLICT ({cols}) DO UPDATE SET "count" = "count" + 1;'


def _sqlite_take(table: str) -> str:
    match = " AND ".join(f"{c} = {e}" for (c, _), e in zip(ROLLUPS[table], _exprs(table, SQLITE_DAY, SQLITE_MONTH, prefix="OLD."),
                                                           strict=True))  # fmt: skip
    return f'UPDATE {table} SET "count" = "count" - 1 WHERE {match}; DELETE FROM {table} WHERE {match} AND "count" <= 0;'


SQLITE_FORWARD = [
    f"CREATE TRIGGER vaults_itemusage_rollups_insert AFTER INSERT ON vaults_itemusage BEGIN {' '.join(_sqlite_add(t) for t in ROLLUPS)} END",
    "CREATE TRIGGER vaults_itemusage_rollups_update AFTER UPDATE OF account_id, timestamp, item_op_id, vault_op_id, user_op_id, "
    f"action ON vaults_itemusage BEGIN {' '.join(_sqlite_take(t) for t in ROLLUPS)} {' '.join(_sqlite_add(t) for t in ROLLUPS)} END",
]
SQLITE_BACKWARD = ["DROP TRIGGER IF EXISTS vaults_itemusage_rollups_insert", "DROP TRIGGER IF EXISTS vaults_itemusage_rollups_update"]


def forward(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    # From the daily counts: their `day` stands in for the timestamp (a day's month is its month).
    month = "date_trunc('month', day)::date" if vendor == "postgresql" else "date(day, 'start of month')"
    with schema_editor.connection.cursor() as cursor:
        for table, keys in ROLLUPS.items():
            exprs = [month if c == "month" else c for c, _ in keys]
            groups = ", ".join(str(n + 1) for n in range(len(exprs)))
            # In day order, as the triggers append later days (a range of days stays contiguous).
            # `WHERE true`: SQLite would read ON CONFLICT as part of the SELECT's join otherwise.
            cursor.execute(
                f'INSERT INTO {table} ({_columns(table)}, "count") SELECT {", ".join(exprs)}, sum("count") '  # noqa: S608 - constants
                f"FROM vaults_itemusagedaily WHERE true GROUP BY {groups} ORDER BY 2"
            )
        for statement in [PG_FORWARD] if vendor == "postgresql" else SQLITE_FORWARD:
            cursor.execute(statement)
        if vendor == "postgresql":
            cursor.execute("ANALYZE " + ", ".join(ROLLUPS))


def backward(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cursor:
        for statement in [PG_BACKWARD] if vendor == "postgresql" else SQLITE_BACKWARD:
            cursor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('vaults', '0011_emergency_vault_class'),
    ]

    operations = [
        migrations.CreateModel(
            name='ItemUsageItemMonth',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('month', models.DateField()),
                ('item_op_id', models.CharField(max_length=64)),
                ('action', models.CharField(blank=True, max_length=60)),
                ('count', models.PositiveIntegerField()),
                ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='vaults.account')),
            ],
            options={
                'indexes': [models.Index(models.F('account'), models.F('month'), models.F('action'), models.OrderBy(models.F('count'), descending=True), include=('item_op_id',), name='usageitemmonth_ranked'), models.Index(fields=['item_op_id', 'month'], include=('account_id', 'action', 'count'), name='usageitemmonth_item_month')],
                'constraints': [models.UniqueConstraint(fields=('account', 'month', 'item_op_id', 'action'), name='usageitemmonth_unique')],
            },
        ),
        migrations.CreateModel(
            name='ItemUsagePersonDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('user_op_id', models.CharField(max_length=64)),
                ('action', models.CharField(blank=True, max_length=60)),
                ('count', models.PositiveIntegerField()),
                ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='vaults.account')),
            ],
            options={
                'indexes': [models.Index(fields=['day'], name='usagepersonday_day'), models.Index(fields=['user_op_id', 'day'], name='usagepersonday_user_day')],
                'constraints': [models.UniqueConstraint(fields=('account', 'day', 'user_op_id', 'action'), name='usagepersonday_unique')],
            },
        ),
        migrations.CreateModel(
            name='ItemUsagePersonMonth',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('month', models.DateField()),
                ('user_op_id', models.CharField(max_length=64)),
                ('action', models.CharField(blank=True, max_length=60)),
                ('count', models.PositiveIntegerField()),
                ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='vaults.account')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('account', 'month', 'user_op_id', 'action'), name='usagepersonmonth_unique')],
            },
        ),
        migrations.CreateModel(
            name='ItemUsageVaultDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('vault_op_id', models.CharField(max_length=64)),
                ('action', models.CharField(blank=True, max_length=60)),
                ('count', models.PositiveIntegerField()),
                ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='vaults.account')),
            ],
            options={
                'indexes': [models.Index(fields=['day'], name='usagevaultday_day')],
                'constraints': [models.UniqueConstraint(fields=('account', 'day', 'vault_op_id', 'action'), name='usagevaultday_unique')],
            },
        ),
        migrations.RunPython(forward, backward),
        migrations.RemoveIndex(model_name="itemusagedaily", name="itemusagedaily_item_day"),
        migrations.AddIndex(
            model_name="itemusagedaily",
            index=models.Index(fields=["item_op_id", "day"], include=("account_id", "user_op_id", "action", "count"),
                               name="itemusagedaily_item_day_cov"),  # fmt: skip
        ),
        migrations.AddIndex(
            model_name="itemusage",
            index=models.Index(fields=["client_ip", "timestamp"], name="itemusage_ip_time",
                               opclasses=["varchar_pattern_ops", "timestamptz_ops"]),  # fmt: skip
        ),
    ]
