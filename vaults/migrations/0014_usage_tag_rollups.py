"""Uses per item tag, kept by the database (issue #19: a tag over a 13-month audit period).

A tag filter matches the items that carry the tag *now*, so no rollup of 0012/0013 answers it: on
the 5M-event benchmark (bench/bench_usage.py) a tag over 13 months read ~570,000 daily counts
(10,000 tagged items) and grouped them three ways, ~250 ms of the page's 300. Two rollups:
- ItemUsageTagMonth, per (tag, month, account, person, action): the per-person counts over whole
  months (a tag's 13 months: ~78,000 rows at most, one per person and action a month);
- ItemUsageTagDay, per (tag, day, account, action): the timeline (~2,400 rows).
Per-item counts of a tag come from ItemUsageItemMonth (vaults/usage_rollups.py).

PostgreSQL only. Two sets of statement triggers keep them equal to "the daily counts of the items
that carry the tag now":
- on ItemUsage, like 0012: an insert adds its events under their items' current tags; an update
  moves them; a delete (retention) leaves the counts;
- on vaults_item: an insert, a delete, or an update that changes an item's tags (or its id or
  vault) takes the item's daily counts out of the tags it lost and adds them to the tags it gained.
An item id names one item (1Password ids are unique across accounts, and a move gives the item a
new id), so an item's tags are keyed by (account, item id); two item rows holding one id would make
the rollups and the daily counts disagree, and a subtraction is floored at zero so that such data
never fails a write. A usage insert share-locks the items it names (`_LOCK_ITEMS`), so a retag and
a usage import of the same item at the same moment see each other's rows. A tag longer than TAG_ROLLUP_MAX_LENGTH, or a tag that is not a string, is
not rolled up: its filter reads the daily counts. On SQLite (the demo) the tables stay empty and
the readers do not use them.
"""

from __future__ import annotations

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

MONTH, DAY = "vaults_itemusagetagmonth", "vaults_itemusagetagday"
MONTH_KEYS, DAY_KEYS = "tag, month, account_id, user_op_id, action", "tag, day, account_id, action"
TAG_ROLLUP_MAX_LENGTH = 200  # vaults.models.events.TAG_ROLLUP_MAX_LENGTH when this was written
PG_DAY = "(u.timestamp AT TIME ZONE 'UTC')::date"  # the UTC day, whatever the session's time zone
PG_MONTH = f"date_trunc('month', {PG_DAY})::date"

TAGS_FUNCTION = f"""
CREATE FUNCTION vaults_item_rollup_tags(tags jsonb) RETURNS SETOF text LANGUAGE sql IMMUTABLE AS $$
  SELECT DISTINCT e #>> '{{}}' FROM jsonb_array_elements(CASE WHEN jsonb_typeof(tags) = 'array' THEN tags ELSE '[]' END) AS e
  WHERE jsonb_typeof(e) = 'string' AND length(e #>> '{{}}') <= {TAG_ROLLUP_MAX_LENGTH} $$;
"""  # noqa: S608 - constants only


def _tags_of(items: str, where: str = "true") -> str:
    """(account_id, op_id, tag) of the item rows `items`, each tag once per item."""
    return (f"SELECT DISTINCT v.account_id, i.op_id, t.tag FROM {items} i JOIN vaults_vault v ON v.id = i.vault_id "  # noqa: S608
            f"CROSS JOIN LATERAL vaults_item_rollup_tags(i.tags) AS t(tag) WHERE {where}")  # fmt: skip


def _events_per_tag(events: str) -> tuple[str, str]:
    """`events` (raw ItemUsage rows) grouped per month rollup key and per day rollup key, under the
    current tags of their items."""
    tagged = _tags_of("vaults_item", f"i.op_id IN (SELECT item_op_id FROM {events})")  # noqa: S608 - constants
    joined = f"FROM {events} u JOIN ({tagged}) g ON g.account_id = u.account_id AND g.op_id = u.item_op_id"
    per_month = f"SELECT g.tag, {PG_MONTH} AS month, u.account_id, u.user_op_id, u.action, count(*) AS n {joined} GROUP BY 1, 2, 3, 4, 5"
    per_day = f"SELECT g.tag, {PG_DAY} AS day, u.account_id, u.action, count(*) AS n {joined} GROUP BY 1, 2, 3, 4"
    return per_month, per_day


def _daily_per_tag(items: str) -> tuple[str, str]:
    """The daily counts of `items` ((account_id, op_id, tag) rows) grouped per rollup key."""
    joined = f"FROM ({items}) g JOIN vaults_itemusagedaily d ON d.account_id = g.account_id AND d.item_op_id = g.op_id"
    per_month = (f"SELECT g.tag, date_trunc('month', d.day)::date AS month, g.account_id, d.user_op_id, d.action, "
                 f"sum(d.count) AS n {joined} GROUP BY 1, 2, 3, 4, 5")  # fmt: skip
    per_day = f"SELECT g.tag, d.day, g.account_id, d.action, sum(d.count) AS n {joined} GROUP BY 1, 2, 3, 4"
    return per_month, per_day


def _add(table: str, keys: str, grouped: str) -> list[str]:
    return [f'INSERT INTO {table} ({keys}, "count") SELECT {keys}, n FROM ({grouped}) AS s WHERE true '  # noqa: S608
            f'ON CONFLICT ({keys}) DO UPDATE SET "count" = {table}."count" + excluded."count"']  # fmt: skip


def _take(table: str, keys: str, grouped: str) -> list[str]:
    """Subtract, then drop the keys left at zero (no rollup keeps a zero row). Never below zero: a
    trigger must not fail a sync's write, and the CHECK on the count would (counts can only fall
    short of a subtraction when an item id was held by two item rows, which 1Password ids are not)."""
    match = f"({', '.join('r.' + k for k in keys.split(', '))}) = ({', '.join('s.' + k for k in keys.split(', '))})"
    return [f'UPDATE {table} r SET "count" = GREATEST(r."count" - s.n, 0) FROM ({grouped}) AS s WHERE {match}',  # noqa: S608
            f'DELETE FROM {table} r USING ({grouped}) AS s WHERE {match} AND r."count" <= 0']  # noqa: S608  # fmt: skip


def _both(change: Any, grouped: tuple[str, str]) -> list[str]:
    return change(MONTH, MONTH_KEYS, grouped[0]) + change(DAY, DAY_KEYS, grouped[1])


_NO_ITEMS = "(SELECT NULL::bigint AS account_id, NULL::varchar AS op_id, NULL::text AS tag WHERE false)"


def _retagged(before: str | None, after: str | None) -> list[str]:
    """Move the daily counts of the items whose tags differ between `before` and `after` (item rows)."""
    old = f"({_tags_of(before)})" if before else _NO_ITEMS
    new = f"({_tags_of(after)})" if after else _NO_ITEMS
    lost = f"SELECT * FROM {old} o EXCEPT SELECT * FROM {new} n"  # noqa: S608 - constants
    gained = f"SELECT * FROM {new} n EXCEPT SELECT * FROM {old} o"  # noqa: S608 - constants
    # An insert loses no tag and a delete gains none: their half is not run at all.
    return (_both(_take, _daily_per_tag(lost)) if before else []) + (_both(_add, _daily_per_tag(gained)) if after else [])


def _executed(statements: list[str]) -> str:
    """Each statement through EXECUTE: planned on every call for the transition tables' real sizes.
    A static statement is planned on its first call in a session and keeps that plan; planned for a
    one-row first call, a join over 10,000 rows later ran as a nested loop (findings migration 0015)."""
    return " ".join(f"EXECUTE $sql${statement}$sql$;" for statement in statements)


def _function(name: str, body: str, declare: str = "") -> str:
    return f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ {declare} BEGIN {body} RETURN NULL; END $$;"


# Before reading the used items' tags, a usage trigger share-locks those item rows. A retag of one
# of them not yet committed holds its row: the usage trigger waits, then reads the new tags (each
# EXECUTE takes a fresh snapshot). A retag that comes later waits for the usage's commit, then moves
# its daily counts too. Without the lock, each missed the other's uncommitted rows and the item's
# new uses stayed under its old tags (tests/vaults/test_usage_tag_rollups.py, two connections).
_LOCK_ITEMS = "SELECT 1 FROM vaults_item WHERE op_id IN (SELECT item_op_id FROM {rows}) ORDER BY id FOR SHARE"

# Most item updates (every sync, every usage import's last-used refresh) change no tag: one set
# difference of the statement's rows says so before anything is joined to the daily counts.
_TAGS_DIFFER = ("SELECT EXISTS (SELECT o.id, o.tags, o.op_id, o.vault_id FROM old_rows o "
                "EXCEPT SELECT n.id, n.tags, n.op_id, n.vault_id FROM new_rows n)")  # fmt: skip

PG_FORWARD = "\n".join([
    TAGS_FUNCTION,
    _function("vaults_itemusage_add_tag_rollups", _executed([_LOCK_ITEMS.format(rows="new_rows"), *_both(_add, _events_per_tag("new_rows"))])),
    _function("vaults_itemusage_move_tag_rollups",
              _executed([_LOCK_ITEMS.format(rows="old_rows"), _LOCK_ITEMS.format(rows="new_rows"),
                         *_both(_take, _events_per_tag("old_rows")), *_both(_add, _events_per_tag("new_rows"))])),
    _function("vaults_item_insert_tag_rollups", _executed(_retagged(None, "new_rows"))),
    _function("vaults_item_update_tag_rollups", f"EXECUTE $sql${_TAGS_DIFFER}$sql$ INTO differ; "
              f"IF differ THEN {_executed(_retagged('old_rows', 'new_rows'))} END IF;", declare="DECLARE differ boolean;"),
    _function("vaults_item_delete_tag_rollups", _executed(_retagged("old_rows", None))),
    "CREATE TRIGGER vaults_itemusage_tag_rollups_insert AFTER INSERT ON vaults_itemusage REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION vaults_itemusage_add_tag_rollups();",
    "CREATE TRIGGER vaults_itemusage_tag_rollups_update AFTER UPDATE ON vaults_itemusage REFERENCING OLD TABLE AS old_rows "
    "NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION vaults_itemusage_move_tag_rollups();",
    "CREATE TRIGGER vaults_item_tag_rollups_insert AFTER INSERT ON vaults_item REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION vaults_item_insert_tag_rollups();",
    "CREATE TRIGGER vaults_item_tag_rollups_update AFTER UPDATE ON vaults_item REFERENCING OLD TABLE AS old_rows "
    "NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION vaults_item_update_tag_rollups();",
    "CREATE TRIGGER vaults_item_tag_rollups_delete AFTER DELETE ON vaults_item REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION vaults_item_delete_tag_rollups();",
])  # fmt: skip
PG_BACKWARD = """
DROP TRIGGER IF EXISTS vaults_itemusage_tag_rollups_insert ON vaults_itemusage;
DROP TRIGGER IF EXISTS vaults_itemusage_tag_rollups_update ON vaults_itemusage;
DROP TRIGGER IF EXISTS vaults_item_tag_rollups_insert ON vaults_item;
DROP TRIGGER IF EXISTS vaults_item_tag_rollups_update ON vaults_item;
DROP TRIGGER IF EXISTS vaults_item_tag_rollups_delete ON vaults_item;
DROP FUNCTION IF EXISTS vaults_itemusage_add_tag_rollups();
DROP FUNCTION IF EXISTS vaults_itemusage_move_tag_rollups();
DROP FUNCTION IF EXISTS vaults_item_insert_tag_rollups();
DROP FUNCTION IF EXISTS vaults_item_update_tag_rollups();
DROP FUNCTION IF EXISTS vaults_item_delete_tag_rollups();
DROP FUNCTION IF EXISTS vaults_item_rollup_tags(jsonb);
"""


def forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(PG_FORWARD)
        # From the daily counts, which hold every day (also past retention), under today's tags.
        for statement in _both(_add, _daily_per_tag(_tags_of("vaults_item"))):
            cursor.execute(statement)
        cursor.execute(f"ANALYZE {MONTH}, {DAY}")


def backward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(PG_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("vaults", "0013_usage_account_day"),
    ]

    operations = [
        migrations.CreateModel(
            name="ItemUsageTagMonth",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("tag", models.TextField()),
                ("month", models.DateField()),
                ("user_op_id", models.CharField(max_length=64)),
                ("action", models.CharField(blank=True, max_length=60)),
                ("count", models.PositiveIntegerField()),
                ("account", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="vaults.account")),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("tag", "month", "account", "user_op_id", "action"), name="usagetagmonth_unique")
                ],
            },
        ),
        migrations.CreateModel(
            name="ItemUsageTagDay",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("tag", models.TextField()),
                ("day", models.DateField()),
                ("action", models.CharField(blank=True, max_length=60)),
                ("count", models.PositiveIntegerField()),
                ("account", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="vaults.account")),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("tag", "day", "account", "action"), name="usagetagday_unique")],
            },
        ),
        migrations.RunPython(forward, backward),
    ]
