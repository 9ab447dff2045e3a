"""The coarser usage rollups (migration 0012) equal the raw events after every kind of write, on
PostgreSQL and on SQLite, and the usage audit's counts read from them are exactly the raw events'
counts: top N per item by the threshold algorithm, per person from months plus edge days, the
timeline per vault or person. Truth is computed in Python from the stored raw events."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.vaults import usage_rollup_scenario
from tests.vaults.factories import make_account, make_item, make_op_group, make_op_user, make_vault
from vaults import usage_rollups
from vaults.models import Account, Item, ItemUsage
from vaults.usage_audit import UsageFilter, counts_per_item, counts_per_person, summary, timeline

pytestmark = pytest.mark.django_db
REPO_ROOT = Path(__file__).resolve().parent.parent.parent


def _assert_every_step_matches(report: dict[str, Any]) -> None:
    for step in ("bulk", "single", "ignored_duplicate", "moved", "retention", "retention_equals_daily"):
        assert report[step] == [], (step, report[step])
    assert report["retention_deleted"] == 6 and report["raw_left"] == 7  # the deletes happened, counts stayed


def test_the_rollups_equal_the_raw_events_after_every_write_on_postgresql() -> None:
    assert connection.vendor == "postgresql"
    _assert_every_step_matches(usage_rollup_scenario.run())


def test_the_rollups_equal_the_raw_events_after_every_write_on_sqlite(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'rollups.sqlite3'}", "OPENCLAW_VAR_DIR": str(tmp_path),
           "DJANGO_SETTINGS_MODULE": "openclaw_web.settings"}  # fmt: skip
    for name in ("CELERY_BROKER_URL", "CACHE_URL"):
        env.pop(name, None)

    result = subprocess.run([sys.executable, "-m", "tests.vaults.usage_rollup_scenario"], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=300)  # fmt: skip

    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["vendor"] == "sqlite"
    _assert_every_step_matches(report)


def test_the_migration_backfills_the_rollups_from_the_daily_counts() -> None:
    """Usage stored before 0012 (including days past retention, kept only as daily counts) is in the rollups."""
    from django.db.migrations.executor import MigrationExecutor

    acme = make_account(name="Before")
    item = make_item(vault=make_vault(account=acme))
    ItemUsage.objects.bulk_create([usage_rollup_scenario._use(acme, "u1", item, datetime(2026, 1, d, tzinfo=UTC)) for d in (1, 1, 2)])
    ItemUsage.objects.filter(timestamp__date=date(2026, 1, 2)).delete()  # retention: raw gone, daily count kept
    expected = usage_rollup_scenario.from_daily()
    with connection.cursor() as cursor:  # dropping a table waits for no deferred foreign-key check
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    executor = MigrationExecutor(connection)
    executor.migrate([("vaults", "0011_emergency_vault_class")])
    try:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes("vaults"))
        assert usage_rollup_scenario.differences(expected) == []
        assert sum(usage_rollup_scenario.stored()["item_month"].values()) == 3
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())


# --- counts read from the rollups ----------------------------------------------------------------

_serial = iter(range(1, 10_000_000))
START, END = date(2026, 1, 15), date(2026, 3, 10)  # a whole February between two partial months


class Skewed:
    """60 items and 12 people in one account, used with a seeded skew over December to April; a
    second account on the same days; and decoys that would rank first if another month, the days
    just outside the range or another account leaked into the counts."""

    def __init__(self) -> None:
        rng = random.Random(19)
        self.acme = make_account(name="Acme")
        self.other = make_account(name="Other")
        vaults = [make_vault(account=self.acme, name=f"V{n}", classification="production" if n == 1 else "unclassified")
                  for n in range(3)]  # fmt: skip
        self.items = [make_item(vault=vaults[n % 3], title=f"{'API key' if n % 4 == 0 else 'Login'} {n}",
                                tags=["api-key"] if n % 4 == 0 else []) for n in range(60)]  # fmt: skip
        self.people = [make_op_user(account=self.acme, name=f"P{n}") for n in range(12)]
        self.group = make_op_group(account=self.acme, name="Half", members=self.people[::2])
        other_item = make_item(vault=make_vault(account=self.other), title="API key elsewhere", tags=["api-key"])
        someone = make_op_user(account=self.other, name="Someone").op_id
        actions = ["reveal", "fill", "fill", "secure-copy"]
        rows = []
        first = datetime(2025, 12, 1, tzinfo=UTC)
        for _ in range(2500):
            item = self.items[min(59, int(rng.random() ** 2.5 * 60))]
            person = self.people[min(11, int(rng.random() ** 2 * 12))]
            when = first + timedelta(seconds=rng.random() * 150 * 86400)
            rows.append(self._use(self.acme, person.op_id, item, when, rng.choice(actions)))
        # Decoys on the least-used items: December, the day before the range, the day after it.
        for when in (datetime(2025, 12, 20, tzinfo=UTC), datetime(2026, 1, 14, 23, 59, tzinfo=UTC), datetime(2026, 3, 11, tzinfo=UTC)):
            rows += [self._use(self.acme, self.people[11].op_id, self.items[59], when, "fill") for _ in range(400)]
        rows += [self._use(self.other, someone, other_item, datetime(2026, 2, 10, tzinfo=UTC), "fill") for _ in range(300)]
        ItemUsage.objects.bulk_create(rows, batch_size=1000)

    @staticmethod
    def _use(account: Account, user: str, item: Item, when: datetime, action: str) -> ItemUsage:
        return ItemUsage(account=account, uuid=f"S{next(_serial):09d}", timestamp=when, user_op_id=user, item_op_id=item.op_id,
                         vault_op_id=item.vault.op_id, action=action)  # fmt: skip


@pytest.fixture
def skewed() -> Skewed:
    return Skewed()


def _truth(f: UsageFilter, column: str) -> Counter[str]:
    items = {i.op_id: i for i in Item.objects.select_related("vault")}
    members = set(f.group.memberships.values_list("user__op_id", flat=True)) if f.group else None
    counts: Counter[str] = Counter()
    for e in ItemUsage.objects.all():
        day, item = e.timestamp.astimezone(UTC).date(), items.get(e.item_op_id)
        if (f.start and day < f.start) or (f.end and day > f.end) or (f.account and e.account_id != f.account.pk):
            continue
        if (f.action and e.action != f.action) or (f.person and e.user_op_id != f.person.op_id):
            continue
        if (members is not None and e.user_op_id not in members) or (f.tag and not (item and f.tag in item.tags)):
            continue
        if f.title and not (item and f.title.lower() in item.title.lower()):
            continue
        if (f.vault and not (item and item.vault_id == f.vault.pk)) or (f.classification and not (item and item.vault.classification == f.classification)):
            continue
        counts[day.isoformat() if column == "day" else getattr(e, column)] += 1
    return counts


def _top(counts: Counter[str], accounts: dict[str, int], n: int) -> list[tuple[str, int]]:
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], accounts[kv[0]], kv[0].encode()))
    return ranked[:n]


RANGE = UsageFilter(start=START, end=END)


def _filters(w: Skewed) -> list[UsageFilter]:
    return [
        RANGE,
        replace(RANGE, account=w.acme),
        replace(RANGE, action="fill"),
        replace(RANGE, tag="api-key"),
        replace(RANGE, title="api", account=w.acme),
        replace(RANGE, person=w.people[0]),
        replace(RANGE, group=w.group, action="reveal"),
        UsageFilter(start=date(2026, 2, 1), end=date(2026, 2, 28)),  # one whole month, no edge
        UsageFilter(start=date(2026, 2, 3), end=date(2026, 2, 20)),  # inside one month: edges only
        UsageFilter(start=date(2025, 12, 1), end=date(2026, 4, 30)),  # whole months only
        # Partial months mostly inside the range: the month's total minus the days outside (`cover`).
        UsageFilter(start=date(2025, 12, 21), end=date(2026, 3, 10)),  # minus 1-20 December: the decoy of the 20th
        UsageFilter(start=date(2026, 2, 1), end=date(2026, 3, 25)),  # minus 26-31 March
        UsageFilter(start=date(2026, 1, 20), end=date(2026, 2, 25), action="fill"),  # 12 January days, February minus 3
    ]


def test_the_top_items_from_the_monthly_lists_are_exactly_the_raw_events_top(skewed: Skewed) -> None:
    accounts = {i.op_id: i.vault.account_id for i in Item.objects.select_related("vault")}
    for f in _filters(skewed):
        truth = _truth(f, "item_op_id")
        for n in (3, 10):
            got = [(r.op_id, r.count) for r in counts_per_item(f, limit=n)]
            assert got == _top(truth, accounts, n), (f, n)
        assert [(r.op_id, r.count) for r in summary(f, limit=5).items] == _top(truth, accounts, 5), f


def test_the_top_items_come_from_the_rollup_and_grow_their_lists_when_the_first_read_proves_nothing(skewed: Skewed,
                                                                                                  monkeypatch: Any) -> None:  # fmt: skip
    parts = usage_rollups.split(START, END)
    from vaults.usage_audit import _scoped

    answer = usage_rollups.top_items(RANGE, _scoped, START, END, 10)
    assert answer is not None and [n for _, _, n in answer] == sorted((n for _, _, n in answer), reverse=True)
    assert parts.months == (date(2026, 2, 1), date(2026, 2, 1))
    assert parts.edges == [(START, date(2026, 1, 31)), (date(2026, 3, 1), END)]
    reads: list[int] = []
    real = usage_rollups._read_lists

    def counted(matching: Any, lists: Any, depth: int) -> Any:
        reads.append(depth)
        return real(matching, lists, depth)

    monkeypatch.setattr(usage_rollups, "_read_lists", counted)
    monkeypatch.setattr(usage_rollups, "FIRST_DEPTH_FACTOR", 0)  # a first read of 10 rows a list: too shallow here
    deep = usage_rollups.top_items(RANGE, _scoped, START, END, 10)
    assert deep == answer and reads[0] == 10 and len(reads) >= 2  # it read deeper, and the answer is unchanged


def test_counts_per_person_and_the_timeline_are_exact_and_skip_the_daily_counts(skewed: Skewed) -> None:
    for f in _filters(skewed):
        people, days = _truth(f, "user_op_id"), _truth(f, "day")
        assert {r.op_id: r.count for r in counts_per_person(f, limit=None)} == dict(people), f
        line = timeline(f)
        assert line.total == sum(days.values()), f
        if line.bucket == "day":
            assert {d.isoformat(): n for d, n in line.points if n} == dict(days), f
        whole = summary(f, limit=50)
        assert {r.op_id: r.count for r in whole.people} == dict(people) and whole.timeline == line, f
    with CaptureQueriesContext(connection) as queries:
        summary(UsageFilter(start=date(2025, 12, 1), end=date(2026, 4, 30), action="fill"))
    # Whole months, no person or item attribute: nothing reads the daily counts or the raw events.
    assert not [q["sql"] for q in queries.captured_queries if "vaults_itemusagedaily" in q["sql"] or "vaults_itemusage\"" in q["sql"]]


def test_a_month_split_covers_each_day_once() -> None:
    for first, last in [(date(2026, 1, 1), date(2026, 1, 31)), (date(2025, 11, 27), date(2026, 11, 27)),
                        (date(2026, 2, 28), date(2026, 3, 1)), (date(2024, 2, 29), date(2024, 2, 29))]:  # fmt: skip
        parts = usage_rollups.split(first, last)
        covered: list[date] = []
        if parts.months:
            month = parts.months[0]
            while month <= parts.months[1]:
                nxt = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
                covered += [month + timedelta(days=k) for k in range((nxt - month).days)]
                month = nxt
        for a, b in parts.edges:
            covered += [a + timedelta(days=k) for k in range((b - a).days + 1)]
        assert sorted(covered) == [first + timedelta(days=k) for k in range((last - first).days + 1)], (first, last)


def test_a_cover_counts_each_day_of_the_range_once_and_subtracts_only_days_of_its_months() -> None:
    ranges = [(date(2026, 1, 1), date(2026, 1, 31)), (date(2025, 11, 27), date(2026, 11, 27)), (date(2026, 2, 28), date(2026, 3, 1)),
              (date(2024, 2, 29), date(2024, 2, 29)), (date(2026, 10, 30), date(2026, 11, 28)), (date(2026, 2, 3), date(2026, 2, 20)),
              (date(2026, 1, 16), date(2026, 1, 31)), (date(2026, 1, 17), date(2026, 2, 14))]  # fmt: skip
    for first, last in ranges:
        parts = usage_rollups.cover(first, last)
        counted: Counter[date] = Counter()
        months = []
        if parts.months:
            month = parts.months[0]
            while month <= parts.months[1]:
                months.append(month)
                nxt = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
                counted.update(month + timedelta(days=k) for k in range((nxt - month).days))
                month = nxt
        for a, b in parts.add:
            counted.update(a + timedelta(days=k) for k in range((b - a).days + 1))
        for a, b in parts.subtract:
            assert a.replace(day=1) in months and b.replace(day=1) == a.replace(day=1), (first, last)
            counted.subtract(a + timedelta(days=k) for k in range((b - a).days + 1))
        assert +counted == Counter(first + timedelta(days=k) for k in range((last - first).days + 1)), (first, last)
        assert -counted == Counter(), (first, last)  # no day subtracted that was not added
    # The default last 30 days on the 28th of a 30-day month: November's total minus 29-30 November.
    assert usage_rollups.cover(date(2026, 10, 30), date(2026, 11, 28)) == usage_rollups.Cover(
        (date(2026, 11, 1), date(2026, 11, 1)), [(date(2026, 10, 30), date(2026, 10, 31))], [(date(2026, 11, 29), date(2026, 11, 30))]
    )
    # Half a month or less inside is read as its days: 16 of 31 January days inside, 15 outside.
    assert usage_rollups.cover(date(2026, 1, 16), date(2026, 1, 31)).add == []
    assert usage_rollups.cover(date(2026, 1, 17), date(2026, 1, 31)).add == [(date(2026, 1, 17), date(2026, 1, 31))]


def test_an_item_never_first_in_any_month_but_most_used_overall_still_tops_the_list(monkeypatch: Any) -> None:
    """The threshold algorithm's own trap: in each of four (month, action) lists eleven items used
    five times fill the first read, and one item used four times in each list (16 in all, the
    most) is in none of them. Only the bound sends the reader deeper."""
    acme = make_account(name="Lists")
    vault = make_vault(account=acme)
    steady = make_item(vault=vault, title="Steady")
    person = make_op_user(account=acme).op_id
    rows = []
    for action in ("fill", "reveal", "secure-copy", "export"):
        for n in range(11):
            spike = make_item(vault=vault, title=f"Spike {action} {n}")
            rows += [Skewed._use(acme, person, spike, datetime(2026, 2, 10, tzinfo=UTC), action) for _ in range(5)]
        rows += [Skewed._use(acme, person, steady, datetime(2026, 2, 11, tzinfo=UTC), action) for _ in range(4)]
    ItemUsage.objects.bulk_create(rows)
    monkeypatch.setattr(usage_rollups, "FIRST_DEPTH_FACTOR", 0)  # first read: 10 rows a list

    top = counts_per_item(UsageFilter(start=date(2026, 2, 1), end=date(2026, 2, 28)), limit=1)

    assert [(r.label, r.count) for r in top] == [("Steady", 16)]


def test_a_timeline_without_vault_item_or_person_reads_one_row_per_day_and_action(skewed: Skewed) -> None:
    """Migration 0013: everything, one account or one action is charted from ItemUsageAccountDay (a
    few rows a day); a vault or person filter still reads its own rollup, and every answer is exact
    (the decoys: another account on the same days, days just outside the range)."""
    broad = [RANGE, replace(RANGE, account=skewed.acme), replace(RANGE, action="fill"),
             replace(RANGE, account=skewed.other, action="fill"), UsageFilter(start=date(2026, 2, 1), end=date(2026, 2, 1))]  # fmt: skip
    narrow = [replace(RANGE, vault=skewed.items[0].vault), replace(RANGE, classification="production"),
              replace(RANGE, person=skewed.people[0])]  # fmt: skip
    for f in broad + narrow:
        with CaptureQueriesContext(connection) as queries:
            line = timeline(f)
        days = _truth(f, "day")
        assert {d.isoformat(): n for d, n in line.points if n} == dict(days), f
        read = " ".join(q["sql"] for q in queries.captured_queries)
        assert ("vaults_itemusageaccountday" in read) == (f in broad), f
        assert "vaults_itemusagevaultday" not in read or f in narrow, f


# --- the top N's pruning: candidates counted exactly only when their upper bound reaches the cut ----


class Planted:
    """Uses written as raw events and remembered here, so the expected top N is computed from what
    was planted, also after retention deleted the oldest raw events (their daily counts stay)."""

    def __init__(self) -> None:
        self.uses: list[tuple[int, str, date, str]] = []  # (account, item, UTC day, action) per use
        self.rows: list[ItemUsage] = []

    def add(self, item: Item, when: datetime, action: str = "fill", times: int = 1) -> None:
        account = item.vault.account
        for _ in range(times):
            self.uses.append((account.pk, item.op_id, when.astimezone(UTC).date(), action))
            self.rows.append(Skewed._use(account, "person", item, when, action))

    def save(self) -> None:
        ItemUsage.objects.bulk_create(self.rows, batch_size=1000)

    def top(self, f: UsageFilter, n: int) -> list[tuple[str, int]]:
        counts: Counter[tuple[int, str]] = Counter()
        for account_id, op_id, day, action in self.uses:
            if f.account is not None and account_id != f.account.pk:
                continue
            if (f.start and day < f.start) or (f.end and day > f.end) or (f.action and action != f.action):
                continue
            counts[(account_id, op_id)] += 1
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1].encode()))
        return [(op_id, count) for (_, op_id), count in ranked[:n]]


def _counted_exactly(monkeypatch: Any) -> list[set[tuple[int, str]]]:
    """Spy on the exact counts: the candidate sets `_exact` was asked to count, in order."""
    asked: list[set[tuple[int, str]]] = []
    real = usage_rollups._exact

    def spy(f: UsageFilter, scoped: Any, parts: Any, candidates: set[tuple[int, str]]) -> Any:
        asked.append(set(candidates))
        return real(f, scoped, parts, candidates)

    monkeypatch.setattr(usage_rollups, "_exact", spy)
    return asked


def test_a_candidate_whose_upper_bound_ties_the_cut_is_counted_and_wins_the_tie_by_its_id(monkeypatch: Any) -> None:
    """1 January to 20 February: January whole, February its total minus 21-28 February. "Tie" has
    10 fills on 10 February; its lower bound is 10 minus every fill of 21-28 February (3, by
    "Late"), 7, its upper bound 10. "Anchor" has 10 fills in January (lower = upper = 10), so the
    cut is 10 and Tie's upper bound equals it: Tie must be counted, ties Anchor at 10 and ranks
    first by its smaller id. Late is out of the running (upper bound 3) and is not counted."""
    acme, other = make_account(name="Tie Acme"), make_account(name="Tie Other")
    vault = make_vault(account=acme)
    tie, anchor, late = (make_item(vault=vault, title=t) for t in ("Tie", "Anchor", "Late"))  # ids in this order
    assert tie.op_id.encode() < anchor.op_id.encode()
    elsewhere = make_item(vault=make_vault(account=other), title="Elsewhere")
    planted = Planted()
    planted.add(anchor, datetime(2026, 1, 12, 9, tzinfo=UTC), times=10)
    planted.add(tie, datetime(2026, 2, 10, 9, tzinfo=UTC), times=10)
    planted.add(late, datetime(2026, 2, 25, 9, tzinfo=UTC), times=3)  # outside the range, inside February
    planted.add(elsewhere, datetime(2026, 2, 10, 9, tzinfo=UTC), times=50)  # another account, same day
    planted.save()
    f = UsageFilter(account=acme, start=date(2026, 1, 1), end=date(2026, 2, 20))
    asked = _counted_exactly(monkeypatch)

    top = counts_per_item(f, limit=1)

    assert [(r.op_id, r.count) for r in top] == planted.top(f, 1) == [(tie.op_id, 10)]
    assert asked == [{(acme.pk, tie.op_id), (acme.pk, anchor.op_id)}]  # from the rollup; Late pruned
    assert [(r.op_id, r.count) for r in counts_per_item(f, limit=3)] == planted.top(f, 3)


def test_a_month_total_mostly_outside_the_range_does_not_raise_the_cut(monkeypatch: Any) -> None:
    """An item, "Leaning", has 12 February fills, 8 of them on 25 February, outside a range ending on the
    20th: it is read first in February's list but has 4 uses in range. "Quiet" has 5 January
    fills, the true top. A lower bound taken as the month total (12) would prune Quiet."""
    acme = make_account(name="Lean Acme")
    vault = make_vault(account=acme)
    leaning, quiet = make_item(vault=vault, title="Leaning"), make_item(vault=vault, title="Quiet")
    planted = Planted()
    planted.add(leaning, datetime(2026, 2, 10, 9, tzinfo=UTC), times=4)
    planted.add(leaning, datetime(2026, 2, 25, 9, tzinfo=UTC), times=8)
    planted.add(quiet, datetime(2026, 1, 5, 9, tzinfo=UTC), times=5)
    planted.save()
    f = UsageFilter(start=date(2026, 1, 1), end=date(2026, 2, 20))

    assert [(r.op_id, r.count) for r in counts_per_item(f, limit=1)] == planted.top(f, 1) == [(quiet.op_id, 5)]
    assert [(r.op_id, r.count) for r in counts_per_item(f, limit=2)] == planted.top(f, 2)


def test_a_candidate_below_a_lists_first_read_may_still_top_the_range(monkeypatch: Any) -> None:
    """A February with two lists read 10 rows deep. Reveals: ten items used 7 times fill the first
    read; "Hidden", used 6 times, is not in it. Fills: Hidden 5, "Anchor" 10. Hidden is a candidate
    (read in the fill list) whose upper bound is 5 plus the reveal list's floor, 7: it reaches
    Anchor's 10 and is counted, 11 in all, the true top."""
    acme = make_account(name="Floor Acme")
    vault = make_vault(account=acme)
    hidden, anchor = make_item(vault=vault, title="Hidden"), make_item(vault=vault, title="Anchor")
    planted = Planted()
    for n in range(10):
        planted.add(make_item(vault=vault, title=f"Revealed {n}"), datetime(2026, 2, 3, tzinfo=UTC), "reveal", times=7)
    planted.add(hidden, datetime(2026, 2, 4, tzinfo=UTC), "reveal", times=6)
    planted.add(hidden, datetime(2026, 2, 5, tzinfo=UTC), "fill", times=5)
    planted.add(anchor, datetime(2026, 2, 6, tzinfo=UTC), "fill", times=10)
    planted.save()
    monkeypatch.setattr(usage_rollups, "FIRST_DEPTH_FACTOR", 0)  # first read: 10 rows a list
    f = UsageFilter(start=date(2026, 2, 1), end=date(2026, 2, 28))

    assert [(r.op_id, r.count) for r in counts_per_item(f, limit=1)] == planted.top(f, 1) == [(hidden.op_id, 11)]


def _spread(settings: Any) -> tuple[Planted, Account, Account]:
    """400 items used with a seeded skew from November 2025 to March 2026 in four actions, so every
    (month, action) list is longer than a first read of 10 rows; items that are used only on the
    edge days of a partial month; another account's much-used items on the same days; and the
    oldest uses past retention (deleted raw, kept as daily counts)."""
    from vaults.usage_retention import summarise_old_usage

    rng = random.Random(1919)
    acme, other = make_account(name="Spread Acme"), make_account(name="Spread Other")
    vaults = [make_vault(account=acme, name=f"S{n}") for n in range(4)]
    items = [make_item(vault=vaults[n % 4], title=f"Spread {n}") for n in range(400)]
    edge_only = [make_item(vault=vaults[0], title=f"Edge {n}") for n in range(3)]
    far = [make_item(vault=make_vault(account=other), title=f"Far {n}") for n in range(3)]
    planted = Planted()
    first = datetime(2025, 11, 1, tzinfo=UTC)
    for _ in range(6000):
        item = items[min(399, int(rng.random() ** 2.2 * 400))]
        action = rng.choice(["fill", "fill", "reveal", "secure-copy", "export"])
        planted.add(item, first + timedelta(seconds=rng.random() * 151 * 86400), action)
    for n, item in enumerate(edge_only):  # only on 30-31 January and 1-2 March, heavily
        planted.add(item, datetime(2026, 1, 30 + n % 2, 12, tzinfo=UTC), "fill", times=60 + 5 * n)
        planted.add(item, datetime(2026, 3, 1 + n % 2, 12, tzinfo=UTC), "reveal", times=40)
    for item in far:
        planted.add(item, datetime(2026, 1, 31, 12, tzinfo=UTC), "fill", times=400)
    planted.save()
    settings.USAGE_RETENTION_DAYS, settings.EVENTS_HISTORY_DAYS = 100, 10
    deleted = summarise_old_usage(account=acme, now=datetime(2026, 3, 20, tzinfo=UTC))  # raw before 10 December goes
    assert deleted > 500
    assert not ItemUsage.objects.filter(account=acme, timestamp__lt=datetime(2025, 12, 10, tzinfo=UTC)).exists()
    return planted, acme, other


def test_the_pruned_top_n_is_the_planted_top_n_over_partial_months_retention_and_other_accounts(settings: Any,
                                                                                                   monkeypatch: Any) -> None:  # fmt: skip
    planted, acme, other = _spread(settings)
    monkeypatch.setattr(usage_rollups, "FIRST_DEPTH_FACTOR", 0)  # a first read of 10 rows a list: floors that bite
    asked = _counted_exactly(monkeypatch)
    ranges = [
        # Both ends partial, the days before 10 December summarised.
        UsageFilter(start=date(2025, 11, 20), end=date(2026, 3, 20)),
        # January's last 2 days (its total minus 29 days), 2 March days: where the edge items are used.
        UsageFilter(account=acme, start=date(2026, 1, 30), end=date(2026, 3, 2)),
        UsageFilter(account=acme, start=date(2025, 12, 1), end=date(2026, 2, 28)),  # whole months only
        UsageFilter(account=acme, start=date(2026, 1, 30), end=date(2026, 2, 27), action="fill"),
        UsageFilter(account=other, start=date(2026, 1, 1), end=date(2026, 3, 31)),
        UsageFilter(start=date(2026, 2, 3), end=date(2026, 2, 20)),  # inside one month
    ]
    for f in ranges:
        for n in (1, 5, 20):
            asked.clear()
            got = usage_rollups.top_items(f, _usage_scope(), f.start, f.end, n)  # type: ignore[arg-type]
            assert got is not None, (f, n)  # the rollup answered, not the daily counts
            assert [(op_id, count) for _, op_id, count in got] == planted.top(f, n), (f, n)
            assert [(r.op_id, r.count) for r in counts_per_item(f, limit=n)] == planted.top(f, n), (f, n)
    edge_range = ranges[1]
    edge_items = {i.op_id for i in Item.objects.filter(title__startswith="Edge")}
    assert {op_id for op_id, _ in planted.top(edge_range, 3)} == edge_items  # they do enter that top through the edges


def test_candidates_that_cannot_reach_the_top_are_not_counted(settings: Any, monkeypatch: Any) -> None:
    planted, acme, _ = _spread(settings)
    read: list[int] = []
    real = usage_rollups._read_lists

    def counting(matching: Any, lists: Any, depth: int) -> Any:
        answer = real(matching, lists, depth)
        read.append(len(answer.counts))
        return answer

    monkeypatch.setattr(usage_rollups, "_read_lists", counting)
    asked = _counted_exactly(monkeypatch)
    f = UsageFilter(account=acme, start=date(2025, 12, 1), end=date(2026, 3, 20))

    got = counts_per_item(f, limit=5)

    assert [(r.op_id, r.count) for r in got] == planted.top(f, 5)
    assert len(asked) == len(read) == 1 and 5 <= len(asked[0]) < read[0] // 2, (len(asked[0]), read)


def _usage_scope() -> Any:
    from vaults.usage_audit import _scoped

    return _scoped
