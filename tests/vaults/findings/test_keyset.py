"""Keyset pages of the findings list: every sort walks forward and back over exactly the filtered
set, no OFFSET and no uncapped COUNT(*), links keep the filters."""

from __future__ import annotations

import datetime
import re
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openclaw_web import keyset
from vaults.findings.keyset import keyset_page
from vaults.findings.models import SEVERITY_RANK, Finding
from vaults.findings.search import SORTS, filtered_findings

LIST = reverse("findings:list")
KINDS = ["weak", "unclear_name", "orphaned"]
SEVERITIES = ["high", "low", "medium"]


@pytest.fixture
def many(account, prod_vault, now) -> list[Finding]:
    """23 open findings with ties on every sort key (same kind, severity, title, first seen), and
    decoys a page must never show: resolved and accepted findings."""
    rows = []
    for n in range(23):
        severity = SEVERITIES[n % 3]
        rows.append(Finding(account=account, kind=KINDS[n % 2], severity=severity, severity_rank=SEVERITY_RANK[severity],
                            vault=prod_vault, key=f"k{n}", title=f"Title {n % 4}", explanation="x", search_text=f"title {n % 4}",
                            first_seen=now - datetime.timedelta(days=n % 5), last_seen=now))
    for n, status in enumerate(["resolved", "accepted"]):
        rows.append(Finding(account=account, kind="weak", severity="high", severity_rank=3, vault=prod_vault,
                            key=f"decoy{n}", title="Title 0", explanation="x", first_seen=now, last_seen=now, status=status))
    return Finding.objects.bulk_create(rows)


def _walk_forward(sort: str, size: int, **filters: Any) -> list[list[int]]:
    pages, after = [], None
    while True:
        page = keyset_page(filtered_findings(sort=sort, **filters), sort=sort, after=after, size=size)
        pages.append([f.pk for f in page])
        if page.next_after is None:
            return pages
        after = page.next_after


@pytest.mark.parametrize("sort", list(SORTS))
def test_next_then_previous_visit_every_open_finding_once_in_the_sorts_order(sort, many) -> None:
    expected = list(filtered_findings(sort=sort).values_list("pk", flat=True))

    pages = _walk_forward(sort, size=4)

    assert [pk for page in pages for pk in page] == expected
    assert len(expected) == 23  # the resolved and accepted decoys are not in the list
    # Back from the last page, page by page: the same pages in reverse.
    back: list[list[int]] = [pages[-1]]
    before: int | None = pages[-1][0]
    while before is not None:
        page = keyset_page(filtered_findings(sort=sort), sort=sort, before=before, size=4)
        back.append([f.pk for f in page])
        before = page.previous_before
    assert back == list(reversed(pages))


def test_filters_apply_on_every_page(many) -> None:
    pages = _walk_forward("title", size=3, kind="weak")

    shown = Finding.objects.filter(pk__in=[pk for page in pages for pk in page])
    assert set(shown.values_list("kind", flat=True)) == {"weak"}
    assert shown.count() == Finding.objects.filter(kind="weak", status="open").count() == 12


def test_a_deep_page_runs_no_offset_and_no_uncapped_count(many) -> None:
    cursor = list(filtered_findings(sort="severity").values_list("pk", flat=True))[15]

    with CaptureQueriesContext(connection) as queries:
        page = keyset_page(filtered_findings(sort="severity"), sort="severity", after=cursor, size=4)

    assert len(page) == 4
    sql = [q["sql"].upper() for q in queries.captured_queries]
    assert not [s for s in sql if "OFFSET" in s], sql
    counts = [s for s in sql if "COUNT(" in s]
    assert counts and all(re.search(r"LIMIT \d+", s) for s in counts), counts
    assert len(sql) <= 4  # the cursor row, at most two ranges for this sort, the capped count


def test_the_total_is_exact_under_the_cap_and_says_more_than_the_cap_above_it(many, monkeypatch) -> None:
    assert keyset_page(filtered_findings(), size=5).total == 23

    monkeypatch.setattr(keyset, "COUNT_CAP", 20)
    page = keyset_page(filtered_findings(), size=5)
    assert (page.total, page.total_capped) == (20, True)


def _counts(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


def test_a_first_page_holding_every_match_is_the_total_without_a_count(many, monkeypatch) -> None:
    """A search matching few findings (a two-letter word checks every open finding) is read once:
    the first page's rows are the total. Decoys: one row more than the page, a later page, and a
    cap below the page's rows still count, and say what they said before."""
    with CaptureQueriesContext(connection) as queries:
        page = keyset_page(filtered_findings(kind="weak"), size=12)
    assert (len(page), page.total, page.total_capped, page.next_after) == (12, 12, False, None)
    assert _counts(queries) == []

    with CaptureQueriesContext(connection) as queries:
        page = keyset_page(filtered_findings(kind="weak"), size=11)
    assert (len(page), page.total, page.total_capped) == (11, 12, False)
    assert len(_counts(queries)) == 1

    after = list(filtered_findings(kind="weak").values_list("pk", flat=True))[5]
    with CaptureQueriesContext(connection) as queries:
        page = keyset_page(filtered_findings(kind="weak"), after=after, size=12)
    assert (len(page), page.total, page.total_capped) == (6, 12, False)
    assert len(_counts(queries)) == 1

    monkeypatch.setattr(keyset, "COUNT_CAP", 10)
    page = keyset_page(filtered_findings(kind="weak"), size=12)
    assert (len(page), page.total, page.total_capped) == (12, 10, True)


def test_the_page_says_more_than_the_cap_and_the_exact_number_under_it(client_for, team_lead, many, monkeypatch) -> None:
    monkeypatch.setattr(keyset, "COUNT_CAP", 20)
    client = client_for(team_lead)

    capped = client.get(LIST).content.decode()
    exact = client.get(LIST, {"kind": "weak"}).content.decode()

    assert "23 shown of more than 20" in capped and "All findings matching this filter (more than 20)" in capped
    assert "12 shown of 12" in exact and "All 12 findings matching this filter" in exact


def _link(content: bytes, rel: str) -> dict[str, list[str]] | None:
    match = re.search(rf'rel="{rel}" href="\?([^"]*)"', content.decode())
    return parse_qs(urlsplit("?" + unescape(match.group(1))).query) if match else None


def test_the_pages_links_keep_the_filters_and_follow_to_the_end_and_back(client_for, viewer, many, monkeypatch) -> None:
    monkeypatch.setattr(keyset, "PAGE_SIZE", 5)
    client = client_for(viewer)
    expected = list(filtered_findings(kind="weak", sort="title").values_list("pk", flat=True))
    # An old ?page= bookmark opens the first page.
    params: dict[str, str] = {"kind": "weak", "sort": "title", "page": "7"}
    seen: list[list[int]] = []
    for _ in range(10):
        response = client.get(LIST, params, headers={"HX-Request": "true"})
        assert response.status_code == 200
        seen.append([f.pk for f in response.context["page"]])
        nxt = _link(response.content, "next")
        if nxt is None:
            break
        assert nxt["kind"] == ["weak"] and nxt["sort"] == ["title"] and "page" not in nxt
        params = {k: v[0] for k, v in nxt.items()}
    assert [pk for page in seen for pk in page] == expected and len(seen) == 3
    assert b"5 shown of 12" in client.get(LIST, {"kind": "weak"}).content
    prev = _link(response.content, "prev")
    assert prev is not None and prev["kind"] == ["weak"]
    back = client.get(LIST, {k: v[0] for k, v in prev.items()})
    assert [f.pk for f in back.context["page"]] == seen[1]


def test_a_cursor_of_a_vanished_finding_gives_the_first_page(client_for, viewer, many) -> None:
    response = client_for(viewer).get(LIST, {"after": "99999999"})

    assert response.status_code == 200
    assert [f.pk for f in response.context["page"]] == list(filtered_findings().values_list("pk", flat=True))[:50]
    assert client_for(viewer).get(LIST, {"after": "x"}).status_code == 400
