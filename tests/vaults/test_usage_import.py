"""The Events API import's last-used refresh, scoped to what the import stored (issue #19: a day's
import in seconds at 5 million events). Truth: each item's latest raw event, read in Python."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.vaults.factories import make_account, make_item, make_op_user, make_usage, make_vault
from vaults.events import _refresh_last_used, sync_events
from vaults.fake_op import account as fake_account
from vaults.models import Item, ItemUsage, Vault

pytestmark = pytest.mark.django_db


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def _latest_per_item() -> dict[str, datetime]:
    latest: dict[str, datetime] = {}
    for op_id, when in ItemUsage.objects.values_list("item_op_id", "timestamp"):
        latest[op_id] = max(when, latest.get(op_id, when))
    return latest


def test_a_scoped_refresh_updates_the_used_items_and_the_never_set_ones_only() -> None:
    acme = make_account(name="Acme")
    vault = make_vault(account=acme)
    alice = make_op_user(account=acme, name="Alice")
    used = make_item(vault=vault, title="Used today")
    synced_late = make_item(vault=vault, title="Synced after its uses")  # last_used_at still NULL
    untouched = make_item(vault=vault, title="Not in this import")
    never = make_item(vault=vault, title="Never used")
    for item, day in ((used, 1), (used, 9), (synced_late, 4), (untouched, 7)):
        make_usage(account=acme, user=alice, item=item, when=at(day))
    Item.objects.filter(pk=used.pk).update(last_used_at=at(1))
    # A decoy: stale on purpose, outside `used` and already set, so only a full refresh would touch it.
    Item.objects.filter(pk=untouched.pk).update(last_used_at=at(2))

    _refresh_last_used(acme, {used.op_id})

    latest = dict(Item.objects.values_list("pk", "last_used_at"))
    assert latest[used.pk] == at(9)
    assert latest[synced_late.pk] == at(4)
    assert latest[never.pk] is None
    assert latest[untouched.pk] == at(2)  # scoped: not read, not written

    _refresh_last_used(acme)  # unscoped: every item, as before

    assert Item.objects.get(pk=untouched.pk).last_used_at == at(7)


def test_a_scoped_refresh_leaves_other_accounts_alone() -> None:
    acme, other = make_account(name="Acme"), make_account(name="Other")
    mine = make_item(vault=make_vault(account=acme))
    theirs = make_item(vault=make_vault(account=other))
    make_usage(account=acme, user=make_op_user(account=acme), item=mine, when=at(5))
    make_usage(account=other, user=make_op_user(account=other), item=theirs, when=at(6))

    _refresh_last_used(acme, {mine.op_id, theirs.op_id})

    assert Item.objects.get(pk=mine.pk).last_used_at == at(5)
    assert Item.objects.get(pk=theirs.pk).last_used_at is None  # its account was not refreshed


def test_the_refresh_reads_only_the_used_items_when_scoped() -> None:
    acme = make_account(name="Acme")
    vault = make_vault(account=acme)
    alice = make_op_user(account=acme)
    items = [make_item(vault=vault) for _ in range(6)]
    for n, item in enumerate(items):
        make_usage(account=acme, user=alice, item=item, when=at(1 + n))
    _refresh_last_used(acme)  # every item has its value now
    make_usage(account=acme, user=alice, item=items[0], when=at(20))

    with CaptureQueriesContext(connection) as queries:
        _refresh_last_used(acme, {items[0].op_id})

    (update,) = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert items[0].op_id in update and items[1].op_id not in update
    assert Item.objects.get(pk=items[0].pk).last_used_at == at(20)


def test_the_import_sets_each_imported_items_latest_use(fake_org: Any) -> None:
    """Through the real import: the fake Events API as an HTTP server, the import's own refresh."""
    data = fake_account.load(fake_org.path)
    user = data["users"][0]
    for n, item in enumerate(data["items"][:3]):
        for hours in (30 + n, 5 + n):
            fake_account.add_event(fake_org.path, "itemusages", {
                "uuid": f"IMP{n}{hours:03d}", "timestamp": fake_account.format_ts(datetime.now(UTC) - timedelta(hours=hours)),
                "used_version": 1, "vault_uuid": item["vault_id"], "item_uuid": item["id"], "action": "reveal",
                "user_uuid": user["id"], "client": "cli-linux", "ip": "192.0.2.10",
            })  # fmt: skip
    account = fake_org.add_account()
    vaults = {v: Vault.objects.create(account=account, op_id=v, name=v) for v in {i["vault_id"] for i in data["items"][:3]}}
    synced = [Item.objects.create(vault=vaults[item["vault_id"]], op_id=item["id"], title=f"Item {n}")
              for n, item in enumerate(data["items"][:3])]  # fmt: skip
    decoy = make_item(vault=next(iter(vaults.values())), title="No use in the feed")
    # Set by an earlier import, older than the feed's uses: only the import's own item ids reach them.
    Item.objects.filter(pk__in=[i.pk for i in synced[:2]]).update(last_used_at=datetime.now(UTC) - timedelta(days=30))

    sync_events(account=account)

    truth = _latest_per_item()
    for item in synced:
        stored = Item.objects.get(pk=item.pk).last_used_at
        assert stored is not None and stored == truth[item.op_id]
    assert Item.objects.get(pk=decoy.pk).last_used_at is None
