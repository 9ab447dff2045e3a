"""`AnyOf` (vaults/findings/any_of.py): an incremental run's item scope as one array parameter."""

from __future__ import annotations

from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from tests.vaults.factories import make_finding, make_item, make_vault
from vaults.findings.any_of import AnyOf
from vaults.findings.candidate import only_items
from vaults.findings.models import Finding
from vaults.models import Item


def test_it_matches_exactly_the_listed_ids_and_keys_as_one_parameter(account) -> None:
    vault = make_vault(account=account, name="Payments Production")
    items = [make_item(vault=vault, title=f"Login {n}") for n in range(5)]
    wanted = {items[1].pk, items[3].pk, 10**12}  # an id no row has (a bigint) is a decoy too
    for item in items:
        finding = make_finding(account=account, vault=vault, item=item)
        Finding.objects.filter(pk=finding.pk).update(key=f"item:{item.pk}")

    with CaptureQueriesContext(connection) as queries:
        found = set(only_items(Item.objects.all(), frozenset(wanted)).values_list("pk", flat=True))
    keys = {f"item:{items[0].pk}", f"item:{items[4].pk}", "item:x"}
    by_key = set(Finding.objects.filter(AnyOf(F("key"), sorted(keys))).values_list("item_id", flat=True))

    assert found == {items[1].pk, items[3].pk}
    assert by_key == {items[0].pk, items[4].pk}
    assert not Item.objects.filter(AnyOf(F("id"), [])).exists()
    assert "= ANY(" in queries[0]["sql"] and queries[0]["sql"].count("%s") <= 2  # not one placeholder per id
