"""The change log's trigger on item-usage inserts finds the used items through their ids.

0012 joined each new usage row to every vault of its account, then to the items of those vaults:
for a 1,000-event page of an import, ~100,000 item lookups (154 ms of a page's 354 ms at 5 million
events, bench/bench_usage.py). Distinct (account, item id) pairs first, then the item id index,
then the account's vaults: the same pairs (inserted ON CONFLICT DO NOTHING), 18.5 ms a page.
PostgreSQL only, like 0012.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.db import migrations

change_log = import_module("vaults.findings.migrations.0012_incremental_change_log")

USAGE_PAIRS = (
    "SELECT r.account_id, i.id FROM (SELECT DISTINCT u.account_id, u.item_op_id FROM {rows} u) r "
    "JOIN vaults_item i ON i.op_id = r.item_op_id "
    "WHERE i.vault_id IN (SELECT v.id FROM vaults_vault v WHERE v.account_id = r.account_id)"
)


def by_item_ids(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        pairs = {**change_log.ITEM_PAIRS, "vaults_itemusage": USAGE_PAIRS}
        schema_editor.execute(change_log._function("vaults_itemusage", pairs))


def through_vaults(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(change_log._function("vaults_itemusage"))


class Migration(migrations.Migration):
    dependencies = [("findings", "0012_incremental_change_log")]

    operations = [migrations.RunPython(by_item_ids, through_vaults)]
