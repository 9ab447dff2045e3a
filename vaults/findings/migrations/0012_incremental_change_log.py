"""Change log for incremental findings runs (issue #17 item 4; vaults/findings/incremental.py).

A findings run after a sync that changed 1% of the items recomputes only what those changes can
move. Which rows changed is recorded by the database itself, so no writer can forget to say so
(the sync's bulk writes, a queryset `update()`, raw SQL, a test's fixture): statement-level
triggers with transition tables, one INSERT ... SELECT per statement, whatever its row count.

1. `findings_changed_item (account_id, item_id)`: an item inserted, updated (only when a column
   actually differs) or deleted; an item whose secret fields were; the items of a vault whose name,
   classification, removal or account changed; items an item-usage event names (inserted or
   deleted: the orphaned rule reads usage).
2. `findings_changed_access (account_id)`: something the over-permissioned rule reads changed
   (grants, memberships, people, groups, a vault's name or removal, item usage).
3. `findings_run_state (account_id, computed_at, signature)`: what the last run was judged with
   (policy, usage coverage, rule code); a run whose inputs differ is a full run.

PostgreSQL only: on SQLite (the demo) there are no tables and every run is a full run. No model
state: the tables are read and written only by vaults/findings/incremental.py in raw SQL.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

TABLES = """
CREATE TABLE IF NOT EXISTS findings_changed_item (
    account_id bigint NOT NULL, item_id bigint NOT NULL, PRIMARY KEY (account_id, item_id));
CREATE TABLE IF NOT EXISTS findings_changed_access (account_id bigint PRIMARY KEY);
CREATE TABLE IF NOT EXISTS findings_run_state (
    account_id bigint PRIMARY KEY, computed_at timestamptz NOT NULL, signature text NOT NULL);
"""

# Per watched table: SQL selecting (account_id, item_id) pairs from a transition table named
# {rows}; and SQL selecting account ids whose access inputs changed. {changed} is the subset of
# an UPDATE's rows whose watched columns differ (see _CHANGED below).
ITEM_PAIRS = {
    "vaults_item": "SELECT v.account_id, r.id FROM {rows} r JOIN vaults_vault v ON v.id = r.vault_id",
    "vaults_secretfield": (
        "SELECT v.account_id, i.id FROM {rows} r JOIN vaults_item i ON i.id = r.item_id "
        "JOIN vaults_vault v ON v.id = i.vault_id"
    ),
    "vaults_vault": "SELECT r.account_id, i.id FROM {rows} r JOIN vaults_item i ON i.vault_id = r.id",
    "vaults_itemusage": (
        "SELECT r.account_id, i.id FROM {rows} r JOIN vaults_vault v ON v.account_id = r.account_id "
        "JOIN vaults_item i ON i.vault_id = v.id AND i.op_id = r.item_op_id"
    ),
}
ACCESS_ACCOUNTS = {
    "vaults_vault": "SELECT r.account_id FROM {rows} r",
    "vaults_itemusage": "SELECT r.account_id FROM {rows} r",
    "vaults_opuser": "SELECT r.account_id FROM {rows} r",
    "vaults_opgroup": "SELECT r.account_id FROM {rows} r",
    "vaults_vaultgrant": "SELECT v.account_id FROM {rows} r JOIN vaults_vault v ON v.id = r.vault_id",
    "vaults_groupmembership": "SELECT u.account_id FROM {rows} r JOIN vaults_opuser u ON u.id = r.user_id",
}
# An UPDATE counts only when a column the rules read differs. Vaults: only the columns the rules
# read (a sync rewrites content_version on every changed vault, which would mark all its items);
# other tables: any column (a no-op rewrite of an unchanged row marks nothing).
VAULT_COLUMNS = ("account_id", "name", "classification", "removed_at", "op_id")


def _changed(table: str) -> str:
    if table == "vaults_vault":
        columns = ", ".join(VAULT_COLUMNS)
        differs = f"(o.{columns.replace(', ', ', o.')}) IS DISTINCT FROM (n.{columns.replace(', ', ', n.')})"
    else:
        differs = "to_jsonb(o) IS DISTINCT FROM to_jsonb(n)"
    return f"(SELECT n.* FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE {differs})"  # noqa: S608 — constant SQL


def _changed_old(table: str) -> str:
    return _changed(table).replace("SELECT n.*", "SELECT o.*")


def _function(table: str, item_pairs: dict[str, str] = ITEM_PAIRS, *, dynamic: bool = False) -> str:
    """One trigger function per table: INSERT reads new_rows, DELETE old_rows, UPDATE the rows
    whose watched columns differ, before (an item moved out of a vault) and after. `item_pairs`:
    a later migration's version of ITEM_PAIRS (0013). `dynamic` (0015): each statement through
    EXECUTE, planned on every call for the transition tables' real sizes."""
    statements: list[str] = []
    for op, sources in (
        ("INSERT", ["new_rows"]),
        ("DELETE", ["old_rows"]),
        ("UPDATE", [_changed(table), _changed_old(table)]),
    ):
        body = []
        for rows in sources:
            if table in ITEM_PAIRS and not (table == "vaults_vault" and op == "INSERT"):
                pairs = item_pairs[table].format(rows=rows)
                body.append(f"INSERT INTO findings_changed_item (account_id, item_id) {pairs} ON CONFLICT DO NOTHING;")
            if table in ACCESS_ACCOUNTS:
                accounts = ACCESS_ACCOUNTS[table].format(rows=rows)
                body.append(
                    f"INSERT INTO findings_changed_access (account_id) SELECT DISTINCT a.account_id FROM ({accounts}) a(account_id) "  # noqa: S608 — constant SQL
                    "WHERE a.account_id IS NOT NULL ON CONFLICT DO NOTHING;"
                )
        if dynamic:
            body = [f"EXECUTE $sql${statement.removesuffix(';')}$sql$;" for statement in body]
        statements.append(f"IF TG_OP = '{op}' THEN\n" + "\n".join(body) + "\nEND IF;")
    return (
        f"CREATE OR REPLACE FUNCTION findings_log_{table}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n"
        + "\n".join(statements)
        + "\nRETURN NULL;\nEND $$;"
    )


def _triggers(table: str) -> str:
    return "\n".join(
        [
            f"DROP TRIGGER IF EXISTS findings_log_ins ON {table};",
            f"DROP TRIGGER IF EXISTS findings_log_upd ON {table};",
            f"DROP TRIGGER IF EXISTS findings_log_del ON {table};",
            f"CREATE TRIGGER findings_log_ins AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION findings_log_{table}();",
            f"CREATE TRIGGER findings_log_upd AFTER UPDATE ON {table} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION findings_log_{table}();",
            f"CREATE TRIGGER findings_log_del AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION findings_log_{table}();",
        ]
    )


WATCHED = sorted(set(ITEM_PAIRS) | set(ACCESS_ACCOUNTS))

# An account's rows go with it (there is no foreign key: a trigger must never fail a sync's write).
ACCOUNT_CLEANUP = """
CREATE OR REPLACE FUNCTION findings_log_account_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
DELETE FROM findings_changed_item WHERE account_id IN (SELECT id FROM old_rows);
DELETE FROM findings_changed_access WHERE account_id IN (SELECT id FROM old_rows);
DELETE FROM findings_run_state WHERE account_id IN (SELECT id FROM old_rows);
RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS findings_log_account_del ON vaults_account;
CREATE TRIGGER findings_log_account_del AFTER DELETE ON vaults_account REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION findings_log_account_deleted();
"""


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(TABLES)
    for table in WATCHED:
        schema_editor.execute(_function(table))
        schema_editor.execute(_triggers(table))
    schema_editor.execute(ACCOUNT_CLEANUP)


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in WATCHED:
        for name in ("ins", "upd", "del"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS findings_log_{name} ON {table}")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS findings_log_{table}()")
    schema_editor.execute("DROP TRIGGER IF EXISTS findings_log_account_del ON vaults_account")
    schema_editor.execute("DROP FUNCTION IF EXISTS findings_log_account_deleted()")
    schema_editor.execute("DROP TABLE IF EXISTS findings_changed_item, findings_changed_access, findings_run_state")


class Migration(migrations.Migration):
    dependencies = [
        ("findings", "0011_finding_counts"),
        ("vaults", "0012_usage_rollups"),
    ]

    operations = [migrations.RunPython(create, drop)]
