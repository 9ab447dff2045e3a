"""Keyset pages of the findings list (issue #17 item 3), through the shared keyset
(openclaw_web/keyset.py): the list's sorts (vaults/findings/search.py SORTS) each have an index
matching their order (migration 0003's finding_open_order_idx, 0009's for the others), so a page
is at most three index range scans with LIMIT, usually one.

The total is counted up to openclaw_web.keyset.COUNT_CAP rows only: a page says "more than 10,000" rather than
counting 134k rows on every request (the old COUNT(*) cost 150-300 ms of the 208-388 ms page);
a searched list, whose counted rows each cost a check of the words, up to SEARCH_COUNT_CAP. A
caller that knows the exact total (the findings run's counts, vaults/findings/counts.py) passes it.
"""

from __future__ import annotations

from django.db.models import QuerySet

from openclaw_web import keyset
from openclaw_web.keyset import KeysetPage
from vaults.findings.models import Finding
from vaults.findings.search import SORTS

# A searched list counts to a lower cap: each counted row is checked against the query's words (a
# lower() of its text per word, ~1 µs) where the plain list counts index entries. "db password
# prod" matches 62,000 of 244,000 open findings: counting 10,001 of them took 150-300 ms, 1,001 took
# 14-19 ms (bench/bench_findings_list.py, 2 cores at load ≈ 12).
SEARCH_COUNT_CAP = 1_000


def keyset_page(findings: QuerySet[Finding], *, sort: str = "", after: int | None = None, before: int | None = None,
                size: int | None = None, count_cap: int | None = None, total: int | None = None) -> KeysetPage:
    """One page of the filtered `findings` in the list's `sort` (default: by severity)."""
    order = SORTS.get(sort or "severity", SORTS["severity"])
    return keyset.keyset_page(findings, order=order, after=after, before=before, size=size,
                              count_cap=count_cap, total=total)
