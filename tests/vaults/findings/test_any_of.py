"""`AnyOf` (vaults/findings/any_of.py): an incremental run's item scope as one array parameter."""

from __future__ import annotations

from django.db import connection
from django.db.models import F

from tests.vaults.factories import make_finding, make_item, make_vault
from vaults.findings.any_of import AnyOf
from vaults.findings.candidate import only_items
from vaults.findings.models import Finding
from vaults.models import Item


def test_it_matches_exactly_the_listed_ids_and_keys_as_one_parameter(account) -> None:
    vault = make_vault(account=account, name="Payments Production")
    items = [make_item(vault=vault, title=f"Login {n}") for n in range(5)]
    wanted = {items[1].pk, items[3].pk, 987_654}  # an id no row has is a decoy too
    for item in items:
        finding = make_finding(account=account, vault=vault, item=item)
        Finding.objects.filter(pk=finding.pk).update(key=f"item:{item.pk}")

    scoped = only_items(Item.objects.all(), frozenset(wanted))
    found = set(scoped.values_list("pk", flat=True))
    sql, params = scoped.query.get_compiler(connection=connection).as_sql()
    keys = {f"item:{items[0].pk}", f"item:{items[4].pk}", "item:x"}
    by_key = set(Finding.objects.filter(AnyOf(F("key"), sorted(keys))).values_list("item_id", flat=True))

    assert found == {items[1].pk, items[3].pk}
    assert by_key == {items[0].pk, items[4].pk}
    assert not Item.objects.filter(AnyOf(F("id"), [])).exists()
    # One parameter holding the ids, not one placeholder per id.
    assert "= ANY(%s)" in sql and sorted(wanted) in params and sql.count("%s") == len(params) == 1


def test_without_arrays_it_is_an_in_list(account, monkeypatch) -> None:
    """SQLite (the demo) has no arrays: the same lookup as `IN`, one placeholder per value."""
    vault = make_vault(account=account, name="Payments Production")
    items = [make_item(vault=vault, title=f"Login {n}") for n in range(3)]
    queryset = Item.objects.filter(AnyOf(F("id"), [items[0].pk, items[2].pk]))
    monkeypatch.setattr(connection, "vendor", "sqlite")
    sql, params = queryset.query.get_compiler(connection=connection).as_sql()
    monkeypatch.undo()

    assert '"vaults_item"."id" IN (%s, %s)' in sql and list(params) == [items[0].pk, items[2].pk]
    assert {item.pk for item in Item.objects.raw(sql, params)} == {items[0].pk, items[2].pk}
