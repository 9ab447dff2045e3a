"""Page counts from the findings run's aggregates vs counted on request (issue #17 item 2).

Plants bench_findings' organisation (100,000 items, 100 vaults) in the throwaway database
`bench_aggregates` with 134k open findings and the counts the findings run keeps, adds a
history of health snapshots (one per vault per hourly run for three weeks), then times the
count and aggregate queries behind the dashboard, the vault list, a vault's summary and the
findings list's total, each the way it was counted per request before and the way it is read now:
1. freshly vacuumed (what autovacuum leaves after a quiet hour);
2. after 10% of the findings and of the items were rewritten, without VACUUM: the visibility map
   no longer vouches for those pages, so an index-only COUNT reads the heap again.

`BENCH_KEEPDB=1` keeps the database (planting and the first run take a few minutes).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from bench.timing import timed

DATABASE = "bench_aggregates"
REPEAT = 15
HISTORY_RUNS = 500  # three weeks of hourly findings runs


def _ms(fn: Callable[[], Any]) -> float:
    """Median wall time of `fn` in ms over REPEAT calls, after one warm-up."""
    return timed(fn, REPEAT)[0]


# --- the per-request counts as they were before the aggregates --------------------------------


def _old_vault_rows() -> Any:
    from vaults.findings.models import Finding, HealthSnapshot
    from vaults.models import Item, Vault
    from vaults.models.inventory import ACTIVE_ITEMS

    def count(queryset: Any, link: str) -> Coalesce:
        counted = queryset.filter(**{link: OuterRef("pk")}).order_by().values(link).annotate(n=Count("*")).values("n")
        return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))

    latest = HealthSnapshot.objects.filter(vault=OuterRef("pk")).order_by("-taken_at", "-pk")
    return Vault.objects.filter(removed_at__isnull=True).select_related("account", "owner").annotate(
        score_value=Subquery(latest.values("score")[:1], output_field=IntegerField()),
        active_items=count(Item.objects.filter(ACTIVE_ITEMS), "vault"),
        open_findings=count(Finding.objects.filter(status=Finding.Status.OPEN), "vault"),
    )


def _old_counts_by_kind() -> dict[str, int]:
    from vaults.findings.models import Finding

    return dict(Finding.objects.filter(status=Finding.Status.OPEN).values_list("kind").annotate(n=Count("*")).order_by())


def _old_list_total() -> tuple[int, bool]:
    from openclaw_web.keyset import capped_count
    from vaults.findings.search import filtered_findings

    return capped_count(filtered_findings())


def _old_item_count(vault: Any) -> int:
    from vaults.models.inventory import ACTIVE_ITEMS

    return int(vault.items.filter(ACTIVE_ITEMS).count())


# --- measuring --------------------------------------------------------------------------------


def _measures() -> list[tuple[str, Callable[[], Any], Callable[[], Any]]]:
    from vaults import inventory
    from vaults.findings import counts
    from vaults.models import Vault

    vault = Vault.objects.select_related("account").order_by("pk").first()
    assert vault is not None
    return [
        ("dashboard: open findings per kind", _old_counts_by_kind, counts.open_by_kind),
        ("dashboard: 5 worst vaults", lambda: list(_old_vault_rows().filter(Q(score_value__isnull=False)).order_by("score_value", "name", "pk")[:5]),
         lambda: inventory.worst_vaults()),
        ("vault list: first page by name", lambda: list(_old_vault_rows().order_by("name", "pk")[:50]),
         lambda: list(inventory.vault_rows().order_by("name", "pk")[:50])),
        ("vault list: most findings first", lambda: list(_old_vault_rows().order_by("-open_findings", "name", "pk")[:50]),
         lambda: list(inventory.vault_rows().order_by("-open_findings", "name", "pk")[:50])),
        ("vault list: most items first", lambda: list(_old_vault_rows().order_by("-active_items", "name", "pk")[:50]),
         lambda: list(inventory.vault_rows().order_by("-active_items", "name", "pk")[:50])),
        ("vault page: summary (score, items)", lambda: (_old_item_count(vault), inventory.latest_snapshot(vault=vault)),
         lambda: inventory.vault_summary(vault)),
        ("findings list: unfiltered total", _old_list_total, counts.list_total),
    ]


def _check_equal() -> None:
    """The aggregates say what the live counts say (else the timing compares different things)."""
    from vaults import inventory
    from vaults.findings import counts
    from vaults.findings.models import Finding

    old = {v.pk: (v.active_items, v.open_findings, v.score_value) for v in _old_vault_rows()}
    new = {v.pk: (v.active_items, v.open_findings, v.score_value) for v in inventory.vault_rows()}  # type: ignore[attr-defined]  # annotated
    assert old == new, "vault rows differ"
    assert _old_counts_by_kind() == counts.open_by_kind(), "counts per kind differ"
    assert counts.list_total() == Finding.objects.filter(status=Finding.Status.OPEN).count(), "list total differs"


def _table(condition: str) -> None:
    print(f"\n{condition} (median of {REPEAT}, ms; load average {' '.join(f'{v:.2f}' for v in os.getloadavg())})")
    print(f"  {'query':40} {'per request':>12} {'aggregates':>12}")
    for label, old, new in _measures():
        print(f"  {label:40} {_ms(old):12.2f} {_ms(new):12.2f}")


def _plant_once() -> None:
    """bench_findings' organisation, and 134,000 open findings over its items written as the
    engine would leave them (big_org.plant_findings), then the run's last step, `take_snapshots`,
    which writes the counts. Not the whole engine: what is timed here is the pages' reads, and
    the engine's own time is bench_findings'."""
    from bench.bench_findings import _plant
    from bench.big_org import LIST_FINDINGS, plant_findings
    from vaults.findings.health import take_snapshots
    from vaults.findings.models import Finding, HealthSnapshot
    from vaults.models import Account

    now = timezone.now()
    if not Account.objects.filter(name="bench").exists():
        started = time.perf_counter()
        planted = _plant(now)
        print(f"planted in {time.perf_counter() - started:.1f} s: " + ", ".join(f"{k}={v}" for k, v in planted.items()))
    if Finding.objects.filter(account__name="bench").exists():
        print("reusing the kept bench_aggregates database (BENCH_KEEPDB=1); VACUUM ANALYZE first")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        return
    started = time.perf_counter()
    plant_findings(account_name="bench", count=LIST_FINDINGS, now=now)
    account = Account.objects.get(name="bench")
    Account.objects.filter(pk=account.pk).update(findings_computed_at=now)
    account.findings_computed_at = now
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    take_snapshots(account=account, now=now)
    print(f"findings planted and counted in {time.perf_counter() - started:.1f} s")
    table = HealthSnapshot._meta.db_table
    with connection.cursor() as cursor:  # the snapshots of earlier hourly runs
        cursor.execute(
            f"INSERT INTO {table} (account_id, vault_id, taken_at, sync_run_id, score, items, counts, penalties) "
            f"SELECT account_id, vault_id, taken_at - make_interval(hours => g), NULL, score, items, counts, penalties "
            f"FROM {table}, generate_series(1, %s) AS g",
            [HISTORY_RUNS],
        )
        cursor.execute("VACUUM ANALYZE")


def _rewrite_a_tenth() -> None:
    """10% of findings and items rewritten in place, as a run that rewords explanations and a
    sync that stores new versions do; no VACUUM afterwards."""
    from vaults.findings.models import Finding
    from vaults.models import Item

    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Finding._meta.db_table} SET last_seen = last_seen WHERE id % 10 = 0")
        findings = cursor.rowcount
        cursor.execute(f"UPDATE {Item._meta.db_table} SET op_updated_at = op_updated_at WHERE id % 10 = 0")
        items = cursor.rowcount
    print(f"\nrewrote {findings} findings and {items} items, no VACUUM (autovacuum is off here)")


def run() -> None:
    if connection.vendor != "postgresql":
        print("the aggregates benchmark needs PostgreSQL: set DATABASE_URL")
        return
    keep = os.environ.get("BENCH_KEEPDB") == "1"
    test_settings = settings.DATABASES["default"].setdefault("TEST", {})
    test_settings["NAME"] = DATABASE
    creation = connection.creation
    old_name = creation.create_test_db(verbosity=0, autoclobber=not keep, keepdb=keep, serialize=False)
    try:
        _plant_once()
        _check_equal()
        _table("freshly vacuumed")
        _rewrite_a_tenth()
        _check_equal()
        _table("10% of findings and items rewritten, not vacuumed")
    finally:
        connection.close()
        if not keep:
            creation.destroy_test_db(old_name, verbosity=0)
