"""Statement triggers over transition tables are planned for each call's real row counts.

PL/pgSQL plans a static statement once per session, for the row counts of its first call. The
change log (findings migration 0015) and the tag rollups (vaults migration 0014) join their
transition tables; planned for a one-row first call, a later 10,000-row statement ran those joins
as nested loops (6.8 s each for a day's usage import, 949 s for 100,000 events). Both now EXECUTE
their statements. Checked two ways: the plans PostgreSQL chose (auto_explain, where the server has
it), and the functions' source, for every trigger function reading a transition table."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.db import DatabaseError, connection, transaction

from tests.vaults.factories import make_account, make_vault
from vaults.models import Item

pytestmark = pytest.mark.django_db

# Trigger functions whose static statements read a transition table only as one aggregated input
# (INSERT ... SELECT ... GROUP BY, or an UPDATE/DELETE matched through the target's unique key): no
# join between two transition tables or to a subquery, so no plan turns quadratic.
AGGREGATING_ONLY = {
    "vaults_itemusage_add_counts", "vaults_itemusage_move_counts",  # 0010
    "vaults_itemusage_add_rollups", "vaults_itemusage_move_rollups",  # 0012
    "vaults_itemusage_add_account_day", "vaults_itemusage_move_account_day",  # 0013
    "findings_log_account_deleted",  # an account's deletion: IN (SELECT id FROM old_rows)
}  # fmt: skip


def _transition_table_functions() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' AND p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'plpgsql') "
            "AND (p.prosrc LIKE '%new_rows%' OR p.prosrc LIKE '%old_rows%')"
        )
        return dict(cursor.fetchall())


def test_every_trigger_statement_joining_transition_tables_is_planned_per_call() -> None:
    functions = _transition_table_functions()
    assert {"findings_log_vaults_item", "vaults_item_update_tag_rollups", "vaults_itemusage_add_tag_rollups"} <= set(functions)
    static = {}
    for name, source in functions.items():
        outside = re.sub(r"EXECUTE \$sql\$.*?\$sql\$", "", source, flags=re.S)
        if re.search(r"\b(new_rows|old_rows)\b", outside) and name not in AGGREGATING_ONLY:
            static[name] = outside.strip()[:200]
    assert static == {}


@pytest.fixture
def plans() -> Iterator[list[str]]:
    """The plan of every statement run from now on, nested ones too (auto_explain, as notices)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:  # a savepoint: a refusal leaves the test's transaction usable
            cursor.execute("LOAD 'auto_explain'")
    except DatabaseError:  # a server without the module, or a user not allowed to load it
        pytest.skip("auto_explain is not available on this server")
    seen: list[str] = []
    raw = connection.connection
    handler = lambda notice: seen.append(notice.message_primary or "")  # noqa: E731
    raw.add_notice_handler(handler)
    with connection.cursor() as cursor:
        cursor.execute("DISCARD PLANS")  # the functions' cached plans, so the next call is the first
        cursor.execute("SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on; "
                       "SET auto_explain.log_level = 'notice'")  # fmt: skip
    try:
        yield seen
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET auto_explain.log_min_duration = -1")
        raw.remove_notice_handler(handler)


def test_a_large_item_update_after_a_one_row_update_is_not_planned_for_one_row(plans: list[str]) -> None:
    vault = make_vault(account=make_account(name="Plans"))
    Item.objects.bulk_create([Item(vault=vault, op_id=f"p{n:025d}", title=f"Item {n}", category="LOGIN") for n in range(3000)])
    # The session's first calls: one row, its title changed, then its tags (the retag statements).
    Item.objects.filter(op_id="p" + "0" * 25).update(title="One")
    Item.objects.filter(op_id="p" + "0" * 25).update(tags=["one"])
    plans.clear()

    Item.objects.filter(vault=vault).update(title="All", tags=["retagged"])

    # A plan made for this statement estimates each transition table at its 3,000 rows; one kept
    # from the one-row first call estimates 1 (and joined the two in a nested loop).
    estimates = [int(rows) for plan in plans for rows in re.findall(r"Named Tuplestore Scan .*?rows=(\d+)", plan)]
    assert any("findings_changed_item" in plan for plan in plans) and any("vaults_itemusagetagmonth" in plan for plan in plans)
    assert any("EXCEPT" in plan and "vaults_itemusagedaily" in plan for plan in plans)  # the retag statements ran
    assert estimates and set(estimates) == {3000}
