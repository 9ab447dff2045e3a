"""The tag rollups (migration 0014) hold the daily counts of the items that carry each tag *now*,
after every write of usage and of items, and a tag filter's counts read from them are exactly the
raw events' counts. Truth is computed in Python from the daily counts and the items' current tags,
never by the triggers under test. PostgreSQL only: on SQLite the tables stay empty, unused."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.vaults.factories import make_account, make_item, make_op_group, make_op_user, make_vault
from tests.vaults.test_usage_rollups import Skewed, _top, _truth
from tests.vaults.usage_rollup_scenario import _retention
from vaults.models import Account, Item, ItemUsage, ItemUsageDaily, ItemUsageTagDay, ItemUsageTagMonth
from vaults.models.events import TAG_ROLLUP_MAX_LENGTH
from vaults.usage_audit import UsageFilter, summary
from vaults.usage_retention import summarise_old_usage

pytestmark = pytest.mark.django_db
_serial = iter(range(1, 10_000_000))


def _expected() -> dict[str, Counter[tuple[Any, ...]]]:
    """Both rollups as the daily counts and the items' tags today say they should be."""
    tags: dict[tuple[int, str], set[str]] = {}
    for item in Item.objects.select_related("vault"):
        strings = {t for t in item.tags if isinstance(t, str) and len(t) <= TAG_ROLLUP_MAX_LENGTH} if isinstance(item.tags, list) else set()
        tags.setdefault((item.vault.account_id, item.op_id), set()).update(strings)
    month: Counter[tuple[Any, ...]] = Counter()
    day: Counter[tuple[Any, ...]] = Counter()
    for d in ItemUsageDaily.objects.all():
        for tag in tags.get((d.account_id, d.item_op_id), ()):
            month[(tag, d.day.replace(day=1), d.account_id, d.user_op_id, d.action)] += d.count
            day[(tag, d.day, d.account_id, d.action)] += d.count
    return {"month": month, "day": day}


def _stored() -> dict[str, Counter[tuple[Any, ...]]]:
    month = ItemUsageTagMonth.objects.values_list("tag", "month", "account_id", "user_op_id", "action", "count")
    day = ItemUsageTagDay.objects.values_list("tag", "day", "account_id", "action", "count")
    assert all(r[-1] > 0 for r in [*month, *day]), "a tag rollup keeps a row at zero"
    return {"month": Counter({r[:-1]: r[-1] for r in month}), "day": Counter({r[:-1]: r[-1] for r in day})}


def _differences() -> list[str]:
    want, have = _expected(), _stored()
    return [f"{name} {key}: stored {have[name][key]}, expected {want[name][key]}"
            for name in ("month", "day") for key in sorted(set(want[name]) | set(have[name]), key=str)
            if want[name][key] != have[name][key]]  # fmt: skip


def _use(account: Account, user: str, item_op_id: str, vault_op_id: str, when: datetime, action: str = "reveal") -> ItemUsage:
    return ItemUsage(account=account, uuid=f"T{next(_serial):09d}", timestamp=when, user_op_id=user, item_op_id=item_op_id,
                     vault_op_id=vault_op_id, action=action)  # fmt: skip


def test_the_tag_rollups_follow_every_write_of_usage_and_of_items() -> None:
    assert connection.vendor == "postgresql"
    acme, other = make_account(name="Tag Acme"), make_account(name="Tag Other")
    prod, staging, elsewhere = make_vault(account=acme, name="Prod"), make_vault(account=acme, name="Staging"), make_vault(account=other)
    key = make_item(vault=prod, title="Key", tags=["api-key", "prod"])
    login = make_item(vault=prod, title="Login", tags=["team"])
    # Tags as malformed `op` output could leave them: a repeat, a number, an object, an overlong one.
    odd_tags: list[Any] = ["api-key", "api-key", 7, {"x": 1}, "y" * (TAG_ROLLUP_MAX_LENGTH + 1)]
    messy = make_item(vault=staging, title="Messy", tags=odd_tags)
    far = make_item(vault=elsewhere, title="Far", tags=["api-key"])  # the same tag in another account
    jan31, feb1 = datetime(2026, 1, 31, 23, 59, tzinfo=UTC), datetime(2026, 2, 1, 0, 30, tzinfo=UTC)
    uses = [_use(acme, "alice", i.op_id, i.vault.op_id, when, action)
            for i in (key, login, messy) for when in (jan31, feb1) for action in ("reveal", "fill")]  # fmt: skip
    uses += [_use(other, "alice", far.op_id, elsewhere.op_id, feb1), _use(acme, "bob", "iNOTSYNCEDYET", prod.op_id, jan31)]
    ItemUsage.objects.bulk_create(uses)
    steps = {"usage": _differences()}
    assert _stored()["day"][("api-key", date(2026, 1, 31), acme.pk, "fill")] == 2  # key and messy, messy once

    _use(acme, "carol", key.op_id, prod.op_id, datetime(2026, 3, 2, tzinfo=UTC), "export").save()
    steps["one event"] = _differences()

    # The item an event named before the sync knew it arrives, tagged: its earlier use counts.
    Item.objects.create(vault=prod, op_id="iNOTSYNCEDYET", title="Late", category="LOGIN", tags=["api-key"])
    steps["item created"] = _differences()
    assert _stored()["month"][("api-key", date(2026, 1, 1), acme.pk, "bob", "reveal")] == 1

    Item.objects.filter(pk=key.pk).update(tags=["prod", "rotated"])  # loses api-key, gains rotated
    steps["tags changed"] = _differences()
    assert not ItemUsageTagMonth.objects.filter(tag="api-key", user_op_id="carol").exists()

    Item.objects.filter(pk=login.pk).update(title="Login (renamed)")  # no tag change
    Item.objects.filter(pk=messy.pk).update(tags=["api-key", 7, {"x": 1}, "y" * (TAG_ROLLUP_MAX_LENGTH + 1)])  # same strings
    steps["other updates"] = _differences()

    Item.objects.filter(pk=login.pk).update(vault=staging)  # another vault of the account, the same id
    steps["moved to another vault"] = _differences()

    ItemUsage.objects.filter(user_op_id="carol").update(timestamp=datetime(2026, 4, 1, tzinfo=UTC), action="fill")
    steps["event moved"] = _differences()

    with _retention(days=30):
        summarise_old_usage(account=acme, now=datetime(2026, 3, 20, tzinfo=UTC))  # raw gone, counts stay
    steps["retention"] = _differences()
    assert ItemUsageTagMonth.objects.filter(tag="api-key", month=date(2026, 1, 1), account=acme).exists()

    Item.objects.filter(pk=messy.pk).delete()
    steps["item deleted"] = _differences()

    assert {step: problems for step, problems in steps.items() if problems} == {}
    assert not ItemUsageTagMonth.objects.filter(tag__startswith="yyy").exists()  # the overlong tag is not rolled up


# --- a tag filter's counts ---------------------------------------------------------------------


class Retagged(Skewed):
    """The skewed organisation of tests/vaults/test_usage_rollups.py, then decoys for a tag filter:
    an item that lost the tag after heavy use (its uses must not count), one that gained it after
    use (its uses must count), and one tagged `api` (a prefix of `api-key`, not the tag)."""

    def __init__(self) -> None:
        super().__init__()
        vault = self.items[0].vault
        self.lost = make_item(vault=vault, title="Lost", tags=["api-key"])
        self.gained = make_item(vault=vault, title="Gained", tags=[])
        self.prefix = make_item(vault=vault, title="Prefix", tags=["api"])
        today = timezone.now().astimezone(UTC).replace(hour=0, minute=5, second=0, microsecond=0)
        rows = []
        for when in (datetime(2026, 2, 10, tzinfo=UTC), datetime(2026, 1, 20, tzinfo=UTC), today):
            for item, times in ((self.lost, 500), (self.gained, 200), (self.prefix, 700)):
                rows += [self._use(self.acme, self.people[3].op_id, item, when, "fill") for _ in range(times)]
        ItemUsage.objects.bulk_create(rows, batch_size=1000)
        Item.objects.filter(pk=self.lost.pk).update(tags=["retired"])
        Item.objects.filter(pk=self.gained.pk).update(tags=["api-key"])


@pytest.fixture
def retagged() -> Retagged:
    return Retagged()


def _filters(w: Retagged) -> list[UsageFilter]:
    today = timezone.now().astimezone(UTC).date()
    tag = UsageFilter(tag="api-key", start=date(2026, 1, 15), end=date(2026, 3, 10))
    return [
        tag,
        replace(tag, account=w.acme),
        replace(tag, account=w.other),
        replace(tag, action="fill"),
        replace(tag, tag="api"),
        replace(tag, start=date(2025, 12, 1), end=date(2026, 4, 30)),  # whole months only
        replace(tag, start=date(2026, 2, 3), end=date(2026, 2, 20)),  # inside one month: days only
        replace(tag, start=date(2025, 12, 21)),  # December mostly inside: its total minus 1-20 December
        UsageFilter(tag="api-key", start=today - timedelta(days=395), end=today),  # the benchmark's shape
    ]


def _buckets(days: Counter[str], bucket: str) -> dict[date, int]:
    """Uses per day, or per week from Monday (a range over a quarter is charted by week)."""
    out: Counter[date] = Counter()
    for iso, n in days.items():
        day = date.fromisoformat(iso)
        out[day - timedelta(days=day.weekday()) if bucket == "week" else day] += n
    return dict(out)


def test_a_tag_filter_counts_from_the_tag_rollups_exactly_as_the_raw_events(retagged: Retagged) -> None:
    accounts = {i.op_id: i.vault.account_id for i in Item.objects.select_related("vault")}
    people = {p.op_id: p.account_id for p in retagged.people} | {u: a for u, a in
              ItemUsage.objects.values_list("user_op_id", "account_id")}  # fmt: skip
    for f in _filters(retagged):
        with CaptureQueriesContext(connection) as queries:
            answer = summary(f, limit=5)
        read = " ".join(q["sql"] for q in queries.captured_queries)
        assert "vaults_itemusagetagmonth" in read and "vaults_itemusagetagday" in read, f
        assert "GROUPING SETS" not in read, f  # not the daily counts' one scan
        assert [(r.op_id, r.count) for r in answer.items] == _top(_truth(f, "item_op_id"), accounts, 5), f
        assert [(r.op_id, r.count) for r in answer.people] == _top(_truth(f, "user_op_id"), people, 5), f
        assert {d: n for d, n in answer.timeline.points if n} == _buckets(_truth(f, "day"), answer.timeline.bucket), f
    # The decoys did matter: the lost item's 1,500 uses and the prefix's 2,100 would lead the top.
    everything = summary(_filters(retagged)[-1], limit=3).items
    assert retagged.gained.op_id in [r.op_id for r in everything]
    assert {retagged.lost.op_id, retagged.prefix.op_id}.isdisjoint(r.op_id for r in everything)


def test_a_tag_with_a_person_or_a_group_still_counts_exactly(retagged: Retagged) -> None:
    """Per person from the tag's months; the items and the timeline from the daily counts."""
    tag = UsageFilter(tag="api-key", start=date(2026, 1, 15), end=date(2026, 3, 10))
    accounts = {i.op_id: i.vault.account_id for i in Item.objects.select_related("vault")}
    group = make_op_group(account=retagged.acme, name="Three", members=[retagged.people[3], retagged.people[0]])
    for f in (replace(tag, person=retagged.people[3]), replace(tag, group=group)):
        answer = summary(f, limit=5)
        assert [(r.op_id, r.count) for r in answer.items] == _top(_truth(f, "item_op_id"), accounts, 5), f
        assert sorted((r.op_id, r.count) for r in answer.people) == sorted(_truth(f, "user_op_id").items()), f
        assert {d.isoformat(): n for d, n in answer.timeline.points if n} == dict(_truth(f, "day")), f


def test_a_tag_too_long_to_be_rolled_up_reads_the_daily_counts() -> None:
    acme = make_account(name="Long Acme")
    long_tag = "t" * (TAG_ROLLUP_MAX_LENGTH + 1)
    item = make_item(vault=make_vault(account=acme), title="Long", tags=[long_tag])
    person = make_op_user(account=acme, name="Lee")
    ItemUsage.objects.bulk_create([_use(acme, person.op_id, item.op_id, item.vault.op_id, datetime(2026, 2, 2, tzinfo=UTC))
                                   for _ in range(3)])  # fmt: skip
    f = UsageFilter(tag=long_tag, start=date(2026, 1, 1), end=date(2026, 3, 31))

    with CaptureQueriesContext(connection) as queries:
        answer = summary(f)

    assert [(r.op_id, r.count) for r in answer.items] == [(item.op_id, 3)]
    assert [(r.op_id, r.count) for r in answer.people] == [(person.op_id, 3)]
    assert "vaults_itemusagetagmonth" not in " ".join(q["sql"] for q in queries.captured_queries)


def test_a_subtraction_larger_than_the_count_never_fails_the_write() -> None:
    """Counts a rollup lost (two item rows holding one id, a retag racing a usage import) must not
    make a later retag fail the sync's write through the count's CHECK: the count stops at zero."""
    acme = make_account(name="Floor Acme")
    item = make_item(vault=make_vault(account=acme), title="Floor", tags=["api-key"])
    ItemUsage.objects.bulk_create([_use(acme, "ann", item.op_id, item.vault.op_id, datetime(2026, 5, 5, tzinfo=UTC))
                                   for _ in range(3)])  # fmt: skip
    ItemUsageTagMonth.objects.filter(tag="api-key", account=acme).update(count=1)  # short by 2
    ItemUsageTagDay.objects.filter(tag="api-key", account=acme).update(count=1)

    Item.objects.filter(pk=item.pk).update(tags=["retired"])  # subtracts 3 from 1

    assert not ItemUsageTagMonth.objects.filter(tag="api-key", account=acme).exists()
    assert not ItemUsageTagDay.objects.filter(tag="api-key", account=acme).exists()
    assert ItemUsageTagMonth.objects.get(tag="retired", account=acme).count == 3


def _run_held(hold: Callable[[], None], then: Callable[[], None]) -> None:
    """`hold` in a transaction of its own (its own connection) left open while `then` runs on
    another connection; released once `then` is blocked on a lock or done. A lock `then` waits on
    is what lets each trigger see the other's rows."""
    holding, release, errors = threading.Event(), threading.Event(), []

    def held() -> None:
        try:
            with transaction.atomic():
                hold()
                holding.set()
                release.wait(20)
        except Exception as error:  # reported by the test below
            errors.append(error)
            holding.set()
        finally:
            connection.close()

    def second() -> None:
        try:
            then()
        except Exception as error:  # reported by the test below
            errors.append(error)
        finally:
            connection.close()

    first_thread = threading.Thread(target=held)
    first_thread.start()
    assert holding.wait(20)
    second_thread = threading.Thread(target=second)
    second_thread.start()
    deadline = time.monotonic() + 20
    while second_thread.is_alive() and time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
            if cursor.fetchone()[0]:
                break
        time.sleep(0.05)
    release.set()
    first_thread.join(20)
    second_thread.join(20)
    assert errors == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", ["retag", "usage"])
def test_a_retag_and_a_usage_import_of_the_same_item_at_the_same_moment_both_count(first: str) -> None:
    """Each trigger reads what the other writes (the item's tags, its daily counts), and under READ
    COMMITTED neither sees the other's uncommitted rows: without the usage trigger's lock on the
    items it names, the new use stayed under the item's old tag whichever committed first."""
    acme = make_account(name="Race Acme")
    item = make_item(vault=make_vault(account=acme), title="Raced", tags=["old"])
    ItemUsage.objects.bulk_create([_use(acme, "ann", item.op_id, item.vault.op_id, datetime(2026, 6, 1, tzinfo=UTC))])

    def retag() -> None:
        Item.objects.filter(pk=item.pk).update(tags=["new"])

    def use() -> None:
        ItemUsage.objects.bulk_create([_use(acme, "ben", item.op_id, item.vault.op_id, datetime(2026, 6, 2, tzinfo=UTC))])

    _run_held(retag, use) if first == "retag" else _run_held(use, retag)

    assert _differences() == []
    assert dict(ItemUsageTagMonth.objects.filter(account=acme).values_list("user_op_id", "tag")) == {"ann": "new", "ben": "new"}
