"""Search at organisation scale (issue #15): 100,000 items, 1,000 people, 40 groups, 100 vaults
(bench/bench_findings.py plants the same organisation) and 33,334 open findings about them.

Times 50 queries of mixed shapes (one word, two words in either order, typos, an exact title
fragment, a person's e-mail), each once after a short warm-up:
1. `vaults.search.search` (every kind, ten hits each), and
2. the search page through the Django test client (a signed-in viewer), rendering included.
Target: p95 < 100 ms for both, in a throwaway database (`bench_search`, created and dropped here).
"""

from __future__ import annotations

import datetime
import os
import statistics
import time
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.utils import timezone

QUERIES: tuple[str, ...] = (
    # one word
    "stripe", "postgres", "aws", "github", "datadog", "twilio", "sentry", "redis", "okta", "slack",
    "token", "admin", "production", "staging", "deprecated", "weak", "orphaned", "example.com",
    # two words, either order
    "stripe production", "production stripe", "aws staging", "github token", "ssh key", "database password",
    "datadog development", "okta admin", "team 7", "person 420", "slack shared", "redis key",
    # typos
    "strpe", "postgrse", "githb", "datdog", "twillio", "sentyr", "produciton", "stagng", "passwrod",
    "databse password", "strpe prod", "okat admin",
    # precise
    "stripe production api key 4242", "sentry 77", "p420@example.com", "vault 12", "duplicate stripe",
    "overdue rotation aws", "kubernetes", "zzzz qqqq",
)  # fmt: skip
TARGET_MS = 100.0


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]
    return f"p50 {statistics.median(ordered):6.1f} ms  p95 {p95:6.1f} ms  max {ordered[-1]:6.1f} ms"


def _timed(run: Callable[[str], object]) -> list[float]:
    for query in QUERIES[:5]:
        run(query)
    samples = []
    for query in QUERIES:
        started = time.perf_counter()
        run(query)
        samples.append((time.perf_counter() - started) * 1000)
    slowest = sorted(zip(samples, QUERIES, strict=True), reverse=True)[:3]
    print("   slowest: " + ", ".join(f"{q!r} {ms:.0f} ms" for ms, q in slowest))
    return samples


def _plant_findings(now: datetime.datetime) -> int:
    """One open finding for every third item, shaped as the engine writes them (title, item,
    vault in `search_text`; the kind's words are matched per kind), bulk-created: the engine's own
    cost is bench_findings'."""
    from vaults.findings.candidate import item_search_text
    from vaults.findings.models import Finding
    from vaults.models import Item

    kinds = [Finding.Kind.WEAK, Finding.Kind.OVERDUE_ROTATION, Finding.Kind.UNCLEAR_NAME, Finding.Kind.DUPLICATE]
    rows = Item.objects.order_by("pk").values("id", "op_id", "title", "category", "vault_id", "vault__name", "vault__account_id")[::3]
    findings = [
        Finding(account_id=row["vault__account_id"], kind=kind, severity="medium", severity_rank=2, key=f"item:{row['id']}",
                title=f"{Finding.Kind(kind).label}: {row['title']}", explanation="bench", first_seen=now, last_seen=now,
                vault_id=row["vault_id"], item_id=row["id"],
                search_text=item_search_text({**row, "labels_text": "password username"}))
        for n, row in enumerate(rows)
        for kind in [kinds[n % len(kinds)]]
    ]  # fmt: skip
    Finding.objects.bulk_create(findings, batch_size=5000)
    return len(findings)


def _analyze() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def run() -> None:
    from django.contrib.auth.models import Group, User
    from django.test import Client
    from django.urls import reverse

    from bench.bench_findings import _plant
    from openclaw_web.roles import Role
    from vaults import search

    assert len(QUERIES) == 50
    test_settings = settings.DATABASES["default"].setdefault("TEST", {})
    test_settings["NAME"] = "bench_search" if connection.vendor == "postgresql" else None
    creation = connection.creation
    old_name = creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False, serialize=False)
    try:
        print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
        now = timezone.now()
        started = time.perf_counter()
        planted = _plant(now)
        findings = _plant_findings(now)
        _analyze()
        print(f"load average before timing: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"planted in {time.perf_counter() - started:.1f} s: items={planted['items']} people={planted['users']} "
              f"groups={planted['groups']} vaults={planted['vaults']} open findings={findings}")  # fmt: skip
        viewer = User.objects.create_user("bench_viewer")
        viewer.groups.add(Group.objects.get_or_create(name=Role.VIEWER.value)[0])

        found = {q: search.search(viewer, q).total for q in ("stripe production", "strpe", "kubernetes")}
        print("hits: " + ", ".join(f"{q!r}={n}" for q, n in found.items()))
        function_ms = _timed(lambda q: search.search(viewer, q))
        print(f"search():    {_percentiles(function_ms)}  (50 queries; target p95 < {TARGET_MS:.0f} ms)")

        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        client = Client()
        client.force_login(viewer)
        url = reverse("search")

        def page(q: str) -> None:
            response = client.get(url, {"q": q})
            assert response.status_code == 200, response.status_code

        page_ms = _timed(page)
        print(f"search page: {_percentiles(page_ms)}  (Django test client, rendering included)")
    finally:
        creation.destroy_test_db(old_name, verbosity=0)
