"""The findings list at 134k open findings: `make bench BENCH=findings_list` (issue #17 item 3).

Targets: a page 500 deep (25,000 rows in) < 50 ms in every sort; the search "db password prod"
and the other usual shapes < 100 ms. For each sort it times, through the test client (middleware,
form, queries, template; no fragment cache: each request is rendered), the htmx table of the first
page and of the page after the 25,000th row (the cursor taken once, untimed), next to the old way
(Paginator: OFFSET + COUNT(*)) for the same depth; then the API's deep cursor page; then per
search shape the domain query (the keyset page), the same with the rule before issue #17, and the
list page.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.test import Client

from bench.timing import get, timed

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from vaults.findings.models import Finding

DEPTH = 25_000  # page 500 of 50
TARGET_PAGE_MS = 50.0
TARGET_SEARCH_MS = 100.0


def run() -> None:
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.core.paginator import Paginator
    from django.template.loader import render_to_string

    from bench.big_org import DATABASE, bench_database, plant_all
    from openclaw_web.roles import Role
    from vaults.findings.models import Finding
    from vaults.findings.search import SORTS, filtered_findings

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    with bench_database(DATABASE, plant_all):
        user, _ = User.objects.get_or_create(username="bench_viewer")
        user.groups.add(Group.objects.get_or_create(name=Role.VIEWER.value)[0])
        client = Client()
        client.force_login(user)
        open_findings = Finding.objects.filter(status="open", account__name="bench").count()
        print(f"open findings of the bench account: {open_findings:,}; load average {os.getloadavg()}")
        print(f"{'sort':<12} {'first page':>16} {'page 500 (keyset)':>20} {'page 500 (OFFSET+COUNT, old)':>30}")
        worst = 0.0
        for sort, order in SORTS.items():
            deep_id = filtered_findings(sort=sort).order_by(*order).values_list("pk", flat=True)[DEPTH - 1]
            first = timed(get(client, f"/findings/?sort={sort}"))
            deep = timed(get(client, f"/findings/?sort={sort}&after={deep_id}"))

            def old(sort: str = sort) -> object:
                page = Paginator(filtered_findings(sort=sort), 50).get_page(DEPTH // 50)
                return render_to_string("findings/_table.html", {"page": page})

            before = timed(old)
            worst = max(worst, deep[1])
            print(f"{sort:<12} {first[0]:6.1f} / {first[1]:5.1f} ms {deep[0]:8.1f} / {deep[1]:5.1f} ms "
                  f"{before[0]:14.1f} / {before[1]:6.1f} ms   (median / p95)")
        print(f"page 500, worst p95 {worst:.1f} ms (target < {TARGET_PAGE_MS:.0f} ms) {'ok' if worst < TARGET_PAGE_MS else 'SLOW'}")

        from openclaw_web.tokens import create_token

        _, token = create_token(user=user, name="bench")
        api = Client(headers={"Authorization": f"Bearer {token}"})
        from openclaw_web.api.pagination import _encode

        url, api_order = "/api/v1/findings?limit=50", ("-severity_rank", "id")
        cursor = _encode(api_order, filtered_findings().order_by(*api_order)[DEPTH - 1])  # as page 500 hands it out
        median, p95 = timed(lambda: api.get(f"{url}&cursor={cursor}").json())
        print(f"API /api/v1/findings page 500 (cursor): {median:6.1f} / {p95:6.1f} ms (median / p95)")

        _search(client)


# The list's search shapes (issue #17): the headline query, one word, a short word with synonyms,
# two words, a narrow query, a word in no finding, a two-letter word in no finding.
SEARCHES = ("db password prod", "stripe", "db", "stripe key", "stripe production api key", "kubernetes", "qa")


def _old_search(q: str) -> QuerySet[Finding]:
    """The rule before issue #17: an OR of `UPPER(search_text) LIKE` per alternative, no index."""
    from django.db.models import Q

    from vaults.findings.models import Finding
    from vaults.findings.search import MAX_TOKENS, SORTS, alternatives

    condition = Q()
    for token in q.split()[:MAX_TOKENS]:
        any_of = Q()
        for alternative in alternatives(token):
            any_of |= Q(search_text__icontains=alternative)
        condition &= any_of
    return Finding.objects.filter(condition, status="open").order_by(*SORTS["severity"])


def _search(client: Client) -> None:
    """Per shape: the domain query (the keyset page: first 50 ids, their rows, the total capped at
    SEARCH_COUNT_CAP), the old rule as it ran (total capped at 10,000), and the list page."""
    from vaults.findings.keyset import SEARCH_COUNT_CAP, keyset_page
    from vaults.findings.search import filtered_findings

    print(f"{'search':<30} {'domain query':>16} {'old rule':>18} {'list page':>18}   hits")
    worst = 0.0
    for q in SEARCHES:

        def new_rule(q: str = q) -> object:  # as the list page runs it
            return keyset_page(filtered_findings(q=q), count_cap=SEARCH_COUNT_CAP)

        def old_rule(q: str = q) -> object:  # as it ran before issue #17's search work
            return keyset_page(_old_search(q))

        domain, old = timed(new_rule), timed(old_rule)
        page = timed(get(client, "/findings/?" + urlencode({"q": q})))
        total = keyset_page(filtered_findings(q=q), count_cap=SEARCH_COUNT_CAP)
        hits = f"{'> ' if total.total_capped else ''}{total.total:,}"
        worst = max(worst, page[1])
        print(f"{q!r:<30} {domain[0]:6.1f} / {domain[1]:6.1f} {old[0]:8.1f} / {old[1]:6.1f} {page[0]:8.1f} / {page[1]:6.1f}   {hits}")
    print(f"search (median / p95 ms), list page worst p95 {worst:.1f} ms (target < {TARGET_SEARCH_MS:.0f} ms) "
          f"{'ok' if worst < TARGET_SEARCH_MS else 'SLOW'}; load average {os.getloadavg()}")


if __name__ == "__main__":
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openclaw_web.settings")
    django.setup()
    run()
