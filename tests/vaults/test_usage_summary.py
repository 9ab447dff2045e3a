"""The usage audit's daily counts (migration 0010) give the raw events' figures exactly, however the
events arrive; the events table pages by keyset; coverage says what the stored history covers.

The truth in these tests is computed in Python from the raw ItemUsage rows, never by the code
under test, so a count the summary gets wrong (a UTC-day boundary, an event outside the range, an
ignored duplicate, a moved event) shows up as a difference."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.vaults.factories import make_account, make_item, make_op_group, make_op_user, make_sync_run, make_vault
from vaults.models import Account, Item, ItemUsage, ItemUsageDaily, OpUser, SyncRun, Vault
from vaults.usage_audit import (
    UsageFilter,
    counts_per_item,
    counts_per_person,
    coverage,
    events_after,
    summary,
    timeline,
)
from vaults.usage_retention import summarise_old_usage

pytestmark = pytest.mark.django_db

PLUS_5 = timezone(timedelta(hours=5))
MINUS_8 = timezone(timedelta(hours=-8))
_serial = iter(range(1, 1_000_000))


def at(y: int, m: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0, tz: Any = UTC) -> datetime:
    return datetime(y, m, d, h, mi, s, us, tzinfo=tz)


def usage(account: Account, user: OpUser, item: Item, when: datetime, action: str = "reveal", **fields: Any) -> ItemUsage:
    return ItemUsage(account=account, uuid=f"U{next(_serial):08d}", timestamp=when, user_op_id=user.op_id,
                     user_email=user.email, user_name=user.name, item_op_id=item.op_id, vault_op_id=item.vault.op_id,
                     action=action, **fields)  # fmt: skip


class World:
    """Two accounts, production and staging vaults, people in and out of a group, and events on
    both sides of every UTC-day boundary the filters below use."""

    def __init__(self) -> None:
        self.acme = make_account(name="Acme", events_url="http://events.invalid", events_token_env="OP_EVENTS_TOKEN")
        self.other = make_account(name="Other", events_url="http://events.invalid", events_token_env="OP_EVENTS_TOKEN")
        prod = make_vault(account=self.acme, name="Production", classification=Vault.Classification.PRODUCTION)
        staging = make_vault(account=self.acme, name="Staging", classification=Vault.Classification.NON_PRODUCTION)
        self.prod = prod
        self.stripe = make_item(vault=prod, title="Stripe live key", tags=["api-key"])
        self.db = make_item(vault=prod, title="Orders DB", tags=["database"])
        self.test_key = make_item(vault=staging, title="Stripe test key", tags=["api-key"])
        self.alice = make_op_user(account=self.acme, name="Alice", email="alice@example.com")
        self.bob = make_op_user(account=self.acme, name="Bob", email="bob@example.com")
        self.carol = make_op_user(account=self.acme, name="Carol", email="carol@example.com")
        self.team = make_op_group(account=self.acme, name="Payments", members=[self.bob, self.carol])
        other_vault = make_vault(account=self.other, name="Elsewhere", classification=Vault.Classification.PRODUCTION)
        self.elsewhere = make_item(vault=other_vault, title="Stripe live key", tags=["api-key"])
        self.dave = make_op_user(account=self.other, name="Dave", email="dave@example.com")
        a, s, d, t = self.acme, self.stripe, self.db, self.test_key
        rows = [
            usage(a, self.alice, s, at(2026, 1, 1)),  # first instant of 1 January
            usage(a, self.alice, s, at(2025, 12, 31, 23, 59, 59, 999999)),  # decoy: last instant of the day before
            usage(a, self.bob, s, at(2026, 1, 31, 23, 59, 59, 999999), "fill"),  # last instant of January
            usage(a, self.bob, s, at(2026, 2, 1), "fill"),  # decoy: first instant of February
            # Local offsets: 1 February 03:00 at +05:00 is still 31 January in UTC, and 31 January
            # 18:00 at -08:00 is already 1 February in UTC. The UTC day decides.
            usage(a, self.carol, s, at(2026, 2, 1, 3, tz=PLUS_5), "secure-copy"),
            usage(a, self.carol, s, at(2026, 1, 31, 18, tz=MINUS_8), "secure-copy"),
            usage(a, self.alice, d, at(2026, 1, 15, 12), country="BR", client_ip="198.51.100.7"),
            usage(a, self.bob, d, at(2026, 1, 15, 13), country="DE", client_ip="198.51.1.7"),
            usage(a, self.carol, t, at(2026, 1, 10, 9)),
            usage(a, self.alice, s, at(2026, 6, 30, 23)),  # outside every January filter
            usage(self.other, self.dave, self.elsewhere, at(2026, 1, 20)),  # another account
        ]
        # Several uses of one item by one person on one day: one daily row with a count of 3.
        rows += [usage(a, self.alice, s, at(2026, 1, 20, 9, minute)) for minute in range(3)]
        ItemUsage.objects.bulk_create(rows)


@pytest.fixture
def world() -> World:
    return World()


def _utc_day(when: datetime) -> date:
    return when.astimezone(UTC).date()


def _truth(f: UsageFilter, key: Callable[[ItemUsage], Any]) -> Counter[Any]:
    """Counts of the raw rows matching `f`, computed in Python from the stored events."""
    items = {i.op_id: i for i in Item.objects.select_related("vault")}
    group_members = set(f.group.memberships.values_list("user__op_id", flat=True)) if f.group else None
    counts: Counter[Any] = Counter()
    for e in ItemUsage.objects.all():
        day, item = _utc_day(e.timestamp), items.get(e.item_op_id)
        if f.account and e.account_id != f.account.pk:
            continue
        if (f.start and day < f.start) or (f.end and day > f.end):
            continue
        if f.vault and e.vault_op_id != f.vault.op_id:
            continue
        if f.item and e.item_op_id != f.item.op_id:
            continue
        if f.person and e.user_op_id != f.person.op_id:
            continue
        if group_members is not None and e.user_op_id not in group_members:
            continue
        if f.action and e.action != f.action:
            continue
        if f.classification and not (item and item.vault.classification == f.classification):
            continue
        if f.tag and not (item and f.tag in item.tags):
            continue
        if f.title and not (item and f.title.lower() in item.title.lower()):
            continue
        if f.country and e.country.lower() != f.country.lower():
            continue
        counts[key(e)] += 1
    return counts


JANUARY = UsageFilter(start=date(2026, 1, 1), end=date(2026, 1, 31))


def _filters(w: World) -> list[UsageFilter]:
    return [
        JANUARY,
        replace(JANUARY, account=w.acme),
        replace(JANUARY, classification="production", tag="api-key"),
        replace(JANUARY, vault=w.prod, action="fill"),
        replace(JANUARY, item=w.stripe),
        replace(JANUARY, person=w.carol),
        replace(JANUARY, group=w.team),
        replace(JANUARY, title="stripe"),
        replace(JANUARY, country="DE"),  # counted from raw events: the daily counts keep no country
        UsageFilter(start=date(2026, 1, 31), end=date(2026, 1, 31)),  # one day, both offset decoys at its edges
        UsageFilter(start=date(2026, 2, 1), end=date(2026, 2, 1)),
        UsageFilter(start=date(2025, 7, 1), end=date(2026, 6, 30)),  # a year: weekly buckets
        UsageFilter(),
    ]


def test_the_daily_counts_give_the_raw_events_figures_for_every_filter(world: World) -> None:
    for f in _filters(world):
        people, items = _truth(f, lambda e: e.user_op_id), _truth(f, lambda e: e.item_op_id)
        days = _truth(f, lambda e: _utc_day(e.timestamp))

        answer = summary(f, limit=50)

        assert {r.op_id: r.count for r in answer.people} == dict(people), f
        assert {r.op_id: r.count for r in answer.items} == dict(items), f
        assert {r.op_id: r.count for r in counts_per_person(f, limit=None)} == dict(people), f
        assert {r.op_id: r.count for r in counts_per_item(f, limit=None)} == dict(items), f
        assert answer.timeline.total == timeline(f).total == sum(days.values()), f
        if answer.timeline.bucket == "day":
            assert {d: n for d, n in answer.timeline.points if n} == dict(days), f


def test_the_utc_day_decides_at_the_edges(world: World) -> None:
    jan_31 = timeline(UsageFilter(start=date(2026, 1, 31), end=date(2026, 1, 31)))
    feb_1 = timeline(UsageFilter(start=date(2026, 2, 1), end=date(2026, 2, 1)))

    # 31 January: Bob's last-instant fill and Carol's 03:00 at +05:00 (22:00 UTC on the 31st).
    assert jan_31.points == [(date(2026, 1, 31), 2)]
    # 1 February: Bob's first-instant fill and Carol's 18:00 at -08:00 (02:00 UTC on the 1st).
    assert feb_1.points == [(date(2026, 2, 1), 2)]
    assert ItemUsageDaily.objects.get(day=date(2026, 1, 20), user_op_id=world.alice.op_id).count == 3


def test_an_ignored_duplicate_is_not_counted(world: World) -> None:
    again = usage(world.acme, world.bob, world.db, at(2026, 1, 15, 13))
    again.uuid = ItemUsage.objects.get(user_op_id=world.bob.op_id, item_op_id=world.db.op_id).uuid  # the same event

    ItemUsage.objects.bulk_create([again, usage(world.acme, world.bob, world.db, at(2026, 1, 15, 14))], ignore_conflicts=True)

    f = replace(JANUARY, item=world.db)
    assert {r.op_id: r.count for r in counts_per_person(f)} == {world.alice.op_id: 1, world.bob.op_id: 2}
    assert dict(_truth(f, lambda e: e.user_op_id)) == {world.alice.op_id: 1, world.bob.op_id: 2}


def test_an_event_moved_to_another_day_moves_its_count(world: World) -> None:
    moved = ItemUsage.objects.get(user_op_id=world.carol.op_id, item_op_id=world.test_key.op_id)

    ItemUsage.objects.filter(pk=moved.pk).update(timestamp=at(2026, 3, 1))
    ItemUsage.objects.filter(user_op_id=world.alice.op_id).update(country="FR")  # not a counted column

    assert not ItemUsageDaily.objects.filter(day=date(2026, 1, 10)).exists()  # no row left at zero
    assert ItemUsageDaily.objects.get(day=date(2026, 3, 1)).count == 1
    for f in _filters(world):
        assert {r.op_id: r.count for r in counts_per_item(f, limit=None)} == dict(_truth(f, lambda e: e.item_op_id)), f


def test_retention_deletes_raw_events_and_keeps_their_counts(world: World, settings: Any) -> None:
    settings.USAGE_RETENTION_DAYS, settings.EVENTS_HISTORY_DAYS = 30, 10
    f = replace(JANUARY, account=world.acme)
    before = summary(f, limit=50)

    deleted = summarise_old_usage(account=world.acme, now=at(2026, 6, 1))

    assert deleted == 12 and ItemUsage.objects.filter(account=world.acme).count() == 1  # only 30 June is left
    after = summary(f, limit=50)
    assert after.people == before.people and after.items == before.items and after.timeline == before.timeline
    assert after.timeline.total == 9
    assert summary(replace(f, country="DE")).timeline.total == 0  # raw-only counts: nothing raw is left


# --- the events table: keyset pages ------------------------------------------------------------


def test_the_events_page_follows_a_keyset_without_offset(world: World, viewer: Any, client_for: Callable[..., Client],
                                                         settings: Any) -> None:  # fmt: skip
    # Ties on one timestamp across a page boundary: the id breaks them.
    ItemUsage.objects.bulk_create([usage(world.acme, world.bob, world.stripe, at(2026, 1, 25, 8)) for _ in range(60)])
    client = client_for(viewer)
    query = "start=2026-01-01&end=2026-01-31&account=" + str(world.acme.pk)
    seen: list[int] = []
    url = f"/usage/?{query}"
    with CaptureQueriesContext(connection) as queries:
        first = client.get(url)
    assert not any("OFFSET" in q["sql"].upper() for q in queries.captured_queries)
    response = first
    for _ in range(5):
        assert response.status_code == 200
        seen += [row.event.pk for row in response.context["events"]]
        after = response.context["next_after"]
        if after is None:
            break
        assert f"after={after}".encode() in response.content
        response = client.get(f"{url}&after={after}")
    expected = list(events_after(replace(JANUARY, account=world.acme), None).values_list("pk", flat=True))
    assert seen == expected and len(seen) == 69  # 9 January uses of Acme and the 60 ties, each once, in order
    assert b"Newest events" in response.content


def test_an_unknown_keyset_id_lists_nothing(world: World) -> None:
    assert list(events_after(JANUARY, 10**9)) == []


# --- coverage ----------------------------------------------------------------------------------


def test_coverage_states_the_first_day_and_the_last_read(world: World) -> None:
    make_sync_run(account=world.acme, counts={"item_usages": 14}, finished_at=at(2026, 7, 1, 6))
    make_sync_run(account=world.acme, counts={}, finished_at=at(2026, 7, 1, 7))  # decoy: no events phase

    lines = coverage(UsageFilter(account=world.acme, start=date(2025, 12, 1))).statements

    assert lines[0] == "Stored usage data starts on 2025-12-31 (UTC), from the 1Password Events API, itemusages feed."
    assert any("Last read of the feed: 2026-07-01 06:00 UTC" in line for line in lines)
    assert not any("failed" in line for line in lines)
    assert any("nothing is known about use before 2025-12-31" in line for line in lines)


def test_coverage_states_reads_failing_since_the_last_success(world: World) -> None:
    make_sync_run(account=world.acme, counts={"item_usages": 14}, finished_at=at(2026, 7, 1, 6))
    make_sync_run(account=world.acme, error="Events not read: Events API refused the token", finished_at=at(2026, 6, 1))
    make_sync_run(account=world.acme, error="Events not read: Events API refused the token", finished_at=at(2026, 7, 2))
    make_sync_run(account=world.acme, error="Events not read: rate limit", finished_at=at(2026, 7, 3))
    make_sync_run(account=world.other, error="Events not read: unreachable", finished_at=at(2026, 7, 1, 8))  # other account

    lines = coverage(UsageFilter(account=world.acme)).statements

    assert any("Reads of the feed have failed since 2026-07-02 00:00 UTC" in line for line in lines)


def test_the_api_and_the_csv_state_coverage_and_list_each_event_once(world: World, admin_user: Any, auditor: Any,
                                                                      client_for: Callable[..., Client],
                                                                      settings: Any) -> None:  # fmt: skip
    from tests.security.planted import bearer_for

    make_sync_run(account=world.acme, status=SyncRun.Status.SUCCEEDED, counts={"item_usages": 14},
                  finished_at=at(2026, 7, 1, 6))  # fmt: skip
    query = f"account={world.acme.pk}&start=2025-12-01&end=2026-06-30"
    body = Client(headers=bearer_for(admin_user)).get(f"/api/v1/usage?{query}").json()
    assert any("Last read of the feed" in line for line in body["coverage"])

    def export() -> list[list[str]]:
        response = client_for(auditor).get(f"/usage/?{query}&format=csv")
        return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))  # type: ignore[attr-defined]

    rows = export()
    assert [r[1] for r in rows if r[0] == "coverage"][1].startswith("Last read of the feed")
    assert sum(1 for r in rows if len(r) > 2 and r[1] == "event") == 13
    assert not any(len(r) > 2 and r[1] == "daily count" for r in rows)  # raw days are not listed twice

    settings.USAGE_RETENTION_DAYS, settings.EVENTS_HISTORY_DAYS = 30, 10
    summarise_old_usage(account=world.acme, now=at(2026, 6, 1))
    rows = export()
    daily = [r for r in rows if len(r) > 2 and r[1] == "daily count"]
    assert sum(1 for r in rows if len(r) > 2 and r[1] == "event") == 1  # 30 June, still raw
    assert sum(int(r[2]) for r in daily) == 12 and len(daily) == 10  # 20 January's three uses: one row of 3
