"""The 100,000-item organisation of bench_findings, planted once per database for the list and
Excel benchmarks (bench_findings_list, bench_xlsx).

`BENCH_KEEPDB=1` keeps the database between runs (planting takes a minute or two); otherwise it is
created here and dropped at the end, like the other benchmarks.
"""

from __future__ import annotations

import datetime
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection


@contextmanager
def bench_database(name: str, plant: Callable[[], str], planted: Callable[[], bool] | None = None) -> Iterator[None]:
    """Create (or with BENCH_KEEPDB reuse) the throwaway database `name`; `plant` fills it once
    (`planted` says whether a kept database already holds it; by default, the workbook account)."""
    keep = os.environ.get("BENCH_KEEPDB") == "1"
    test_settings = settings.DATABASES["default"].setdefault("TEST", {})
    test_settings["NAME"] = name if connection.vendor == "postgresql" else None
    creation = connection.creation
    old_name = creation.create_test_db(verbosity=0, autoclobber=not keep, keepdb=keep, serialize=False)
    try:
        from vaults.findings.models import Finding

        print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
        if not (planted or (lambda: Finding.objects.filter(account__name="xlsx100k").exists()))():
            started = time.perf_counter()
            summary = plant()
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM ANALYZE")
            print(f"planted in {time.perf_counter() - started:.1f} s: {summary}")
        yield
    finally:
        connection.close()
        if not keep:
            creation.destroy_test_db(old_name, verbosity=0)


KINDS = [("weak", "high", 3), ("overdue_rotation", "medium", 2), ("unclear_name", "low", 1),
         ("missing_metadata", "low", 1), ("orphaned", "medium", 2), ("rotation_due_soon", "low", 1)]


def plant_findings(*, account_name: str, count: int, now: datetime.datetime) -> int:
    """`count` open findings of the item kinds over the bench account's items, owned by the account
    `account_name` (created if missing): one database holds the list's organisation and a 10k and a
    100k one for the workbook. Search text as the engine writes it (kind, title, vault, category,
    field labels), so the list's search runs on realistic documents."""
    from vaults.findings.models import Finding
    from vaults.models import Account, Item

    account, _ = Account.objects.get_or_create(name=account_name)
    labels = dict(Finding.Kind.choices)
    items = list(Item.objects.filter(vault__account__name="bench").values_list("pk", "vault_id", "title", "vault__name", "category"))
    rows = []
    for n in range(count):
        pk, vault_id, title, vault, category = items[n % len(items)]
        kind, severity, rank = KINDS[(n // len(items) + n) % len(KINDS)]
        rows.append(Finding(account=account, kind=kind, severity=severity, severity_rank=rank, vault_id=vault_id,
                            item_id=pk, key=f"bench:{n}", title=f"{labels[kind]}: {title}",
                            explanation=f"The secret of “{title}” was last changed 400 days ago; the policy asks for 90.",
                            recommended_action="Rotate the secret at its source and update the item.",
                            details={"changed_at": "2025-01-01", "age_days": 400, "period_days": 90},
                            search_text=f"{labels[kind]} {title} {vault} {category} password username".lower(),
                            first_seen=now - datetime.timedelta(days=n % 400, seconds=n), last_seen=now))
    Finding.objects.bulk_create(rows, batch_size=5000)
    return count


DATABASE = "bench_perf"  # shared by bench_findings_list and bench_xlsx: with BENCH_KEEPDB one planting serves both
LIST_FINDINGS = 134_000  # what the findings engine finds in this organisation (README, Findings)


def plant_all() -> str:
    """The bench organisation with ~134k open findings for the list (planted as the engine would
    write them: the engine's own first run is bench_findings' subject), and two accounts holding
    10,000 and 100,000 open findings for the workbook. Each step is skipped when already done."""
    from django.utils import timezone

    from bench.bench_findings import _plant
    from vaults.findings.models import Finding
    from vaults.models import Account

    now = timezone.now()
    planted: dict[str, int] = {}
    if not Account.objects.filter(name="bench").exists():
        planted.update(_plant(now))
    for name, count in (("bench", LIST_FINDINGS), ("xlsx10k", 10_000), ("xlsx100k", 100_000)):
        if not Finding.objects.filter(account__name=name).exists():
            planted[name] = plant_findings(account_name=name, count=count, now=now)
    return ", ".join(f"{k}={v}" for k, v in planted.items())
