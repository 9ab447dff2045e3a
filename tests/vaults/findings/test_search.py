"""The findings list search (vaults/findings/search.py, issue #17): on PostgreSQL a LIKE on the
global search's indexed document instead of an unindexed UPPER(search_text) LIKE, with the same
results as before; on SQLite (the demo) the old icontains. The planted findings and the expected
titles are in tests/vaults/findings/search_scenario.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Q
from django.test import Client
from django.utils import timezone

from tests.security.planted import bearer_for
from tests.vaults.factories import make_account, make_finding
from tests.vaults.findings import search_scenario
from vaults.findings.keyset import SEARCH_COUNT_CAP
from vaults.findings.models import Finding
from vaults.findings.search import alternatives, filtered_findings

pytestmark = pytest.mark.django_db
REPO_ROOT = Path(__file__).resolve().parents[3]


def _expected_titles(report: dict[str, dict[str, list[str]]], *, postgresql: bool) -> None:
    expected = {**search_scenario.EXPECTED, **(search_scenario.EXPECTED_POSTGRESQL_ONLY if postgresql else {})}
    assert {q: set(titles) for q, titles in report["open"].items()} == expected
    assert {q: set(titles) for q, titles in report["all"].items()} == search_scenario.EXPECTED_ALL_STATUSES


def _old_rule(query: str) -> Q:
    """The search before issue #17, as it was written: UPPER(search_text) LIKE for each alternative."""
    condition = Q()
    for token in query.split()[:10]:
        any_of = Q()
        for alternative in alternatives(token):
            any_of |= Q(search_text__icontains=alternative)
        condition &= any_of
    return condition


def test_the_search_finds_what_the_rule_says_and_not_the_decoys_on_postgresql() -> None:
    assert connection.vendor == "postgresql"

    _expected_titles(search_scenario.run(), postgresql=True)


def test_the_search_finds_exactly_what_the_old_unindexed_rule_found() -> None:
    search_scenario.plant()
    queries = [*search_scenario.EXPECTED, *search_scenario.EXPECTED_POSTGRESQL_ONLY]

    for query in queries:
        new = set(filtered_findings(q=query).values_list("pk", flat=True))
        old = set(Finding.objects.filter(_old_rule(query), status=Finding.Status.OPEN).values_list("pk", flat=True))
        assert new == old, query
    for query in search_scenario.EXPECTED_ALL_STATUSES:
        assert set(filtered_findings(q=query, status="all")) == set(Finding.objects.filter(_old_rule(query))), query


def test_the_search_finds_the_same_on_sqlite_the_demos_database(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'search.sqlite3'}", "OPENCLAW_VAR_DIR": str(tmp_path),
           "DJANGO_SETTINGS_MODULE": "openclaw_web.settings"}  # fmt: skip
    for name in ("CELERY_BROKER_URL", "CACHE_URL"):
        env.pop(name, None)

    result = subprocess.run([sys.executable, "-m", "tests.vaults.findings.search_scenario"], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=300)  # fmt: skip

    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["vendor"] == "sqlite"
    _expected_titles(report, postgresql=False)


def test_the_page_and_the_api_find_the_same_findings(
    client_for: Callable[[User], Client], viewer: User, api_reader: Client
) -> None:
    search_scenario.plant()

    for query in ("db password prod", "prod", "kubernetes"):
        page = client_for(viewer).get("/findings/", {"q": query})
        api = api_reader.get("/api/v1/findings", {"q": query}).json()["results"]
        expected = search_scenario.EXPECTED[query]
        assert {f.title for f in page.context["page"]} == expected, query
        assert {f["title"] for f in api} == expected, query


@pytest.fixture
def api_reader(viewer: User) -> Client:
    return Client(headers=bearer_for(viewer))


def _plan(query: str) -> str:
    sql, params = filtered_findings(q=query).order_by().values("pk").query.sql_with_params()
    return _explain(sql, params)


def _estimated_rows(plan: str) -> int:
    match = re.search(r"rows=(\d+)", plan)
    assert match, plan
    return int(match.group(1))


def _explain(sql: str, params: tuple[Any, ...]) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_planner_takes_the_trigram_index_for_a_rare_word_and_not_for_a_common_one() -> None:
    search_scenario.plant()
    # Rows as wide as real ones (explanation, details): reading them all must cost what it does.
    account, now, explanation = make_account(name="fillers"), timezone.now(), "Because. " * 100
    Finding.objects.bulk_create(
        Finding(account=account, kind="weak", severity="high", severity_rank=3, key=f"f{n}", title=f"Filler {n}",
                explanation=explanation, search_text=f"weak secret filler {n} vault {n % 7} password", first_seen=now, last_seen=now)
        for n in range(3000)
    )  # fmt: skip
    with connection.cursor() as cursor:
        # What (auto)vacuum does: the fresh rows leave GIN's pending list for the index proper.
        cursor.execute("SELECT gin_clean_pending_list('search_finding_doc_trgm')")
        cursor.execute("ANALYZE findings_finding")

    assert "search_finding_doc_trgm" in _plan("stripe")
    # "db" has no trigram: in the index scan it would read every entry. It must stay out of it
    # (checked on the rows "stripe" brings), or the planner gives up the index at scale.
    mixed = _plan("db password stripe")
    index_conditions = [line for line in mixed.splitlines() if "Index Cond" in line]
    assert "search_finding_doc_trgm" in mixed and index_conditions
    assert all("%stripe%" in line and "%db%" not in line for line in index_conditions)
    # In every filler: the statistics on the document say so (without them the planner guessed
    # 0.5%, 15 rows, and read every finding through the index), and of "stripe" that it is rare.
    assert _estimated_rows(_plan("password")) > 2500
    assert _estimated_rows(_plan("stripe")) < 30
    # The old rule's UPPER(search_text) matched no index: the decoy shows the check can fail.
    sql, params = Finding.objects.filter(_old_rule("stripe"), status="open").values("pk").query.sql_with_params()
    assert "search_finding_doc_trgm" not in _explain(sql, params)


def test_the_planner_has_statistics_on_the_searched_document() -> None:
    account = make_account(name="stats")
    for _ in range(4):
        make_finding(account=account, title="Stripe key", search_text="Stripe KEY production")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE findings_finding")
        cursor.execute("SELECT most_common_vals::text FROM pg_stats WHERE tablename = 'findings_finding' AND attname = 'search_document'")
        [(common,)] = cursor.fetchall()

    assert "stripe key production" in common  # the stored document, folded


def test_the_short_word_scan_reads_the_stored_document_not_a_fold_per_row() -> None:
    plan = _plan("qa")
    assert "search_document" in plan and "upper(" not in plan.lower(), plan


def test_a_searched_list_counts_to_a_lower_cap_and_the_plain_list_to_the_usual_one(
    client_for: Callable[[User], Client], viewer: User
) -> None:
    account, now = make_account(name="many"), timezone.now()
    Finding.objects.bulk_create(
        Finding(account=account, kind="weak", severity="high", severity_rank=3, key=f"m{n}", title=f"Many {n}",
                explanation="x", search_text=f"weak secret many {n}" + (" password" if n else "") + (" rare" if n == 7 else ""),
                first_seen=now, last_seen=now)
        for n in range(SEARCH_COUNT_CAP + 1)
    )  # fmt: skip
    client = client_for(viewer)

    def shown(**query: str) -> str:
        return client.get("/findings/", query).content.decode()

    assert f"50 shown of more than {SEARCH_COUNT_CAP:,}<" in shown(q="many")  # all 1,001
    assert f"50 shown of {SEARCH_COUNT_CAP:,}<" in shown(q="password")  # exactly at the cap: exact
    assert "1 shown of 1<" in shown(q="rare")
    assert f"50 shown of {SEARCH_COUNT_CAP + 1:,}<" in shown()  # no search: counted to COUNT_CAP
