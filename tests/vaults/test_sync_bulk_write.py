"""`vaults.bulk_write.update_rows`, the sync's bulk UPDATE: the same rows as Django's
`bulk_update` for every column type the sync writes, unchanged rows not written (and so not in
the findings change log), a too-long value refused rather than cut, and the SQLite fallback."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import DataError, connection, transaction
from django.forms.models import model_to_dict

from tests.vaults.factories import make_account, make_item, make_secret, make_vault
from vaults import bulk_write
from vaults.bulk_write import update_rows
from vaults.models import Item, SecretField
from vaults.snapshot import DETAIL_FIELDS, SECRET_FIELDS

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
# Values that trip a hand-written UPDATE: quotes, backslashes, non-ASCII, a JSON string that looks
# like a number, nested JSON, nulls, booleans, dates and timestamps with offsets and microseconds.
ITEM_VALUES: list[dict[str, Any]] = [
    {
        "title": 'O\'Brien \\ "quoted" — Zürich 🔑',
        "category": "LOGIN",
        "version": 7,
        "detail_version": 7,
        "tags": ["a", "b'c", "1"],
        "urls": [{"label": "", "href": "https://x.example/?a=1&b='2'", "primary": True}],
        "field_labels": [{"label": "pw", "type": "CONCEALED", "section": None}],
        "has_notes": False,
        "username_fingerprint": "f" * 64,
        "files": [{"name": "k.pem", "size": 0}],
        "expires_at": datetime.date(2027, 2, 28),
        "favorite": True,
        "archived": False,
        "last_edited_by": "U1",
        "op_created_at": datetime.datetime(
            2020, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.timezone(datetime.timedelta(hours=5))
        ),
        "op_updated_at": datetime.datetime(2026, 11, 28, 12, 0, tzinfo=UTC),
        "removed_at": None,
    },
    {
        "title": "",
        "category": "",
        "version": 0,
        "detail_version": None,
        "tags": [],
        "urls": [],
        "field_labels": [],
        "has_notes": True,
        "username_fingerprint": "",
        "files": [],
        "expires_at": None,
        "favorite": False,
        "archived": True,
        "last_edited_by": "",
        "op_created_at": None,
        "op_updated_at": None,
        "removed_at": datetime.datetime(2026, 1, 1, tzinfo=UTC),
    },
]


def _columns(model: Any, pk: int) -> dict[str, Any]:
    return model_to_dict(model.objects.get(pk=pk))


def _pairs(n: int) -> tuple[list[Item], list[Item]]:
    """Two items per value set, identical to start with: one for update_rows, one for bulk_update."""
    vault = make_vault(account=make_account())
    return [make_item(vault=vault, title=f"t{i}") for i in range(n)], [
        make_item(vault=vault, title=f"t{i}") for i in range(n)
    ]


def _logged(account_id: int) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT item_id FROM findings_changed_item WHERE account_id = %s", [account_id])
        return {row[0] for row in cursor.fetchall()}


def _clear_log() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM findings_changed_item")


def test_rows_equal_what_bulk_update_writes() -> None:
    ours, django = _pairs(len(ITEM_VALUES))
    for values, a, b in zip(ITEM_VALUES, ours, django, strict=True):
        for name, value in values.items():
            setattr(a, name, value)
            setattr(b, name, value)
    update_rows(Item, ours, DETAIL_FIELDS)
    Item.objects.bulk_update(django, DETAIL_FIELDS)

    for a, b in zip(ours, django, strict=True):
        mine, theirs = _columns(Item, a.pk), _columns(Item, b.pk)
        assert mine.pop("id") != theirs.pop("id")
        mine.pop("op_id"), theirs.pop("op_id")
        assert mine == theirs
    stored = Item.objects.get(pk=ours[0].pk)
    assert stored.title == ITEM_VALUES[0]["title"] and stored.tags == ["a", "b'c", "1"]
    assert stored.op_created_at == ITEM_VALUES[0]["op_created_at"]


def test_secret_field_rows_equal_what_bulk_update_writes() -> None:
    item = make_item(vault=make_vault(account=make_account()))
    ours, django = make_secret(item=item), make_secret(item=item)
    for row in (ours, django):
        row.label, row.fingerprint, row.zxcvbn_score, row.length, row.generated = "API 'key'", None, None, None, None
        row.value_available, row.history_count, row.changed_at = False, 3, datetime.datetime(2025, 5, 5, tzinfo=UTC)
    update_rows(SecretField, [ours], SECRET_FIELDS)
    SecretField.objects.bulk_update([django], SECRET_FIELDS)

    mine, theirs = _columns(SecretField, ours.pk), _columns(SecretField, django.pk)
    for key in ("id", "field_id"):
        mine.pop(key), theirs.pop(key)
    assert mine == theirs
    assert mine["generated"] is None and mine["value_available"] is False


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the UPDATE ... FROM VALUES path")
def test_unchanged_rows_are_not_written_nor_logged() -> None:
    vault = make_vault(account=make_account())
    same, changed = make_item(vault=vault, title="Same"), make_item(vault=vault, title="Old")
    _clear_log()
    # Decoy: `same` is assigned its own values again (new list and datetime objects, equal values).
    same.tags = list(same.tags)
    same.op_updated_at = same.op_updated_at.astimezone(datetime.timezone(datetime.timedelta(hours=-7)))
    changed.title = "New"

    assert update_rows(Item, [same, changed], DETAIL_FIELDS) == 1
    assert _logged(vault.account_id) == {changed.pk}
    assert Item.objects.get(pk=changed.pk).title == "New"
    assert Item.objects.get(pk=same.pk).title == "Same"
    # Django's bulk_update writes both and the log still names only the changed one: the same log.
    _clear_log()
    changed.title = "Newer"
    assert Item.objects.bulk_update([same, changed], DETAIL_FIELDS) == 2
    assert _logged(vault.account_id) == {changed.pk}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the UPDATE ... FROM VALUES path")
def test_one_changed_column_among_many_is_written() -> None:
    item = make_item(vault=make_vault(account=make_account()), expires_at=None)
    item.expires_at = datetime.date(2030, 1, 1)  # a null becoming a value: IS DISTINCT FROM, not <>

    assert update_rows(Item, [item], DETAIL_FIELDS) == 1
    assert Item.objects.get(pk=item.pk).expires_at == datetime.date(2030, 1, 1)


def test_a_too_long_value_is_refused_not_cut() -> None:
    item = make_item(vault=make_vault(account=make_account()))
    item.username_fingerprint = "x" * 65  # varchar(64)

    with pytest.raises(DataError), transaction.atomic():
        update_rows(Item, [item], ["username_fingerprint"])
    assert Item.objects.get(pk=item.pk).username_fingerprint == ""


def test_batches_beyond_one_statement(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk_write, "BATCH_ROWS", 2)
    vault = make_vault(account=make_account())
    items = [make_item(vault=vault, title=f"t{i}") for i in range(5)]
    for i, item in enumerate(items):
        item.title = f"renamed {i}"

    assert update_rows(Item, items, ["title"]) == 5
    assert list(Item.objects.filter(vault=vault).order_by("pk").values_list("title", flat=True)) == [
        f"renamed {i}" for i in range(5)
    ]


def test_unsaved_rows_and_empty_input() -> None:
    vault = make_vault(account=make_account())
    assert update_rows(Item, [], ["title"]) == 0
    with pytest.raises(ValueError, match="saved rows"):
        update_rows(Item, [Item(vault=vault, op_id="x" * 26, title="new")], ["title"])


def test_one_row_twice_is_written_once_and_two_objects_for_one_row_are_refused() -> None:
    item = make_item(vault=make_vault(account=make_account()), title="old")
    item.title = "new"
    assert update_rows(Item, [item, item], ["title"]) == 1
    assert Item.objects.get(pk=item.pk).title == "new"
    other = Item.objects.get(pk=item.pk)  # decoy: the same row as another object
    other.title = "other"
    with pytest.raises(ValueError, match="two different objects"):
        update_rows(Item, [item, other], ["title"])
    assert Item.objects.get(pk=item.pk).title == "new"


def test_casts_drop_every_length() -> None:
    from django.contrib.postgres.fields import ArrayField
    from django.db.models import CharField, DecimalField

    assert bulk_write._cast(CharField(max_length=64)) == "varchar"
    assert bulk_write._cast(ArrayField(CharField(max_length=64))) == "varchar[]"  # not varchar(64)[]: that cuts
    assert bulk_write._cast(DecimalField(max_digits=5, decimal_places=2)) == "numeric"


def test_other_databases_keep_bulk_update(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SQLite demo's path, taken on PostgreSQL here by naming another vendor."""
    calls: list[list[str]] = []
    original = Item.objects.bulk_update

    def recording(rows: Any, fields: list[str], **kwargs: Any) -> int:
        calls.append(fields)
        return original(rows, fields, **kwargs)

    monkeypatch.setattr(Item.objects, "bulk_update", recording)
    monkeypatch.setattr(connection, "vendor", "sqlite")
    item = make_item(vault=make_vault(account=make_account()))
    item.title = "via bulk_update"

    assert update_rows(Item, [item], ["title"]) == 1
    assert calls == [["title"]]
    assert Item.objects.get(pk=item.pk).title == "via bulk_update"
