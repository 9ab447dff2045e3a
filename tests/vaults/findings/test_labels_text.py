"""The text of an item's field labels, as the findings rules read it (vaults/findings/jsonsql.py
`JSONLabelsText`): on PostgreSQL the column vaults migration 0015 stores, read through the item's
own table and through a join; the expected strings are written out by hand."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import OuterRef, Subquery

from tests.vaults.factories import make_finding, make_item, make_secret
from vaults.findings.jsonsql import JSONLabelsText
from vaults.findings.models import Finding
from vaults.models import Item, SecretField

pytestmark = pytest.mark.django_db

SHAPES: list[tuple[Any, str]] = [
    ([{"label": "password", "type": "CONCEALED"}, {"label": "username"}], "password username"),
    (["API key", {"label": "host"}], "API key host"),
    # Entries that are neither an object nor a string count as empty, and keep their place.
    ([{"label": "a"}, 3, None, {"type": "no label"}, "b"], "a    b"),
    ([{"label": "  spaced  "}], "  spaced  "),
    ([{"label": "Ünïcode ‮rtl"}], "Ünïcode ‮rtl"),
    ([], ""),
    ({"label": "not a list"}, ""),
    ("just a string", ""),
]


def test_labels_text_of_every_shape_read_from_the_item(prod_vault) -> None:
    items = {
        make_item(vault=prod_vault, title=f"Item {n}", field_labels=labels).pk: text
        for n, (labels, text) in enumerate(SHAPES)
    }

    read = dict(Item.objects.filter(pk__in=items).annotate(t=JSONLabelsText("field_labels")).values_list("pk", "t"))

    assert read == items


def test_labels_text_through_a_join_is_the_joined_items_own(prod_vault) -> None:
    first = make_item(vault=prod_vault, title="First", field_labels=[{"label": "pin"}])
    second = make_item(vault=prod_vault, title="Second", field_labels=["token", {"label": "url"}])
    fields = {make_secret(item=first).pk: "pin", make_secret(item=second).pk: "token url"}

    read = dict(
        SecretField.objects.filter(pk__in=fields)
        .annotate(t=JSONLabelsText("item__field_labels"))
        .values_list("pk", "t")
    )

    assert read == fields


def test_a_changed_label_list_is_read_at_once(prod_vault) -> None:
    item = make_item(vault=prod_vault, title="Changing", field_labels=[{"label": "old"}])
    Item.objects.filter(pk=item.pk).update(field_labels=[{"label": "new"}, "second"])

    text = Item.objects.filter(pk=item.pk).annotate(t=JSONLabelsText("field_labels")).values_list("t", flat=True).get()

    assert text == "new second"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the stored column is PostgreSQL's")
def test_on_postgresql_the_rules_read_the_stored_column(prod_vault) -> None:
    query = Item.objects.annotate(t=JSONLabelsText("field_labels")).values("t").query
    joined = SecretField.objects.annotate(t=JSONLabelsText("item__field_labels")).values("t").query

    assert '"vaults_item"."field_labels_text"' in str(query) and "jsonb_array_elements" not in str(query)
    assert '"vaults_item"."field_labels_text"' in str(joined)


def test_labels_text_inside_a_subquery_and_through_a_second_join(prod_vault) -> None:
    item = make_item(vault=prod_vault, title="Aliased", field_labels=[{"label": "otp"}, "seed"])
    field = make_secret(item=item)
    # In a subquery Django renames the item table (U0, U1...); the stored column must follow it.
    labels = Item.objects.filter(pk=OuterRef("item_id")).annotate(t=JSONLabelsText("field_labels")).values("t")
    assert SecretField.objects.filter(pk=field.pk).annotate(t=Subquery(labels)).values_list("t", flat=True).get() == "otp seed"
    # A finding joins the item table twice (its item, and its group's items): the second is T-aliased.
    other = make_item(vault=prod_vault, title="Grouped", field_labels=["group label"])
    finding = make_finding(account=prod_vault.account, item=item)
    finding.related_items.add(other)
    texts = set(
        Finding.objects.filter(pk=finding.pk, related_items__vault=prod_vault)
        .annotate(own=JSONLabelsText("item__field_labels"), grouped=JSONLabelsText("related_items__field_labels"))
        .values_list("own", "grouped")
    )
    assert texts == {("otp seed", "group label")}
