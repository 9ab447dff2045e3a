"""The change log's trigger statements are planned on every call (EXECUTE), not once per session.

PL/pgSQL plans a static statement on its first call in a session and keeps that plan. A statement
over transition tables is then planned for the first call's row counts: a worker whose first item
update wrote one row joined `new_rows` to `old_rows` in a nested loop from then on, and the usage
import's last-used refresh of 10,402 items took 6.8 s in each of two such joins, 100,000 events'
refresh 949 s, where a hash join takes milliseconds (bench/bench_usage.py; a 20,000-row update after
a 1-row one: 32 s static, 0.1 s through EXECUTE). Through EXECUTE each call is planned with the
tables' real sizes. Same statements, same rows logged; PostgreSQL only, like 0012.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.db import migrations

change_log = import_module("vaults.findings.migrations.0012_incremental_change_log")
by_item_ids = import_module("vaults.findings.migrations.0013_usage_log_by_item_ids")
PAIRS = {**change_log.ITEM_PAIRS, "vaults_itemusage": by_item_ids.USAGE_PAIRS}


def _recreate(schema_editor: Any, *, dynamic: bool) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for table in change_log.WATCHED:
            schema_editor.execute(change_log._function(table, PAIRS, dynamic=dynamic))


def planned_per_call(apps: Any, schema_editor: Any) -> None:
    _recreate(schema_editor, dynamic=True)


def planned_once(apps: Any, schema_editor: Any) -> None:
    _recreate(schema_editor, dynamic=False)


class Migration(migrations.Migration):
    dependencies = [("findings", "0014_search_document_column")]

    operations = [migrations.RunPython(planned_per_call, planned_once)]
