"""A long leaver's case page: the plan's counts and what is still open on top of every page, the
secrets fifty at a time in the plan's order (production first), page links that keep the rest of
the address; the still-open list capped, with the action counts per status above it."""

from __future__ import annotations

import re

import pytest

from tests.vaults.factories import make_item, make_secret
from tests.vaults.offboarding.world import World, build_world
from vaults.offboarding import cases, completion
from vaults.offboarding.models import OffboardingCase

pytestmark = pytest.mark.django_db

EXTRA_PER_VAULT = 60  # Lena can copy these (prod directly, dev through her group) and used none


def _row_numbers(html: str) -> list[int]:
    body = html.split('<table class="offboarding-lines">', 1)[1].split("</tbody>", 1)[0]
    return [int(n) for n in re.findall(r"<tr><td>(\d+)</td>", body)]


def _long_case() -> tuple[World, OffboardingCase]:
    w = build_world()
    for vault, prefix in ((w.prod, "Prod Key"), (w.dev, "Dev Key")):
        for n in range(EXTRA_PER_VAULT):
            make_secret(item=make_item(vault=vault, title=f"{prefix} {n:03d}"))
    case = cases.open_case(w.lena, leave_date=w.now.date(), reason=OffboardingCase.Reason.MARKED_LEAVING)
    return w, case


def test_a_long_plan_is_shown_fifty_secrets_a_page_under_the_whole_plans_counts(admin_user, client_for) -> None:
    _, case = _long_case()
    lines = cases.case_plan(case).lines
    assert len(lines) == 126  # 6 of the world + 120 only reachable
    client = client_for(admin_user)

    first = client.get(f"/offboarding/{case.pk}/").content.decode()
    last = client.get(f"/offboarding/{case.pk}/?page=3").content.decode()

    assert _row_numbers(first) == list(range(1, 51)) and _row_numbers(last) == list(range(101, 127))
    for page in (first, last):  # the summary is the whole plan's, on every page
        assert "Secrets to rotate (126)" in page
        assert "63 in production vaults" in page and "4 used in the window" in page and "122 reachable only" in page
        assert "126 secrets to rotate: create the actions." in page  # the still-open list
    # The plan's order, cut into pages: the first page is its first fifty lines, production first.
    assert lines[0].title in first and lines[49].title in first and lines[50].title not in first
    assert all(line.production for line in lines[:50]) and lines[125].title in last and lines[0].title not in last
    assert "101\u2013126 of 126" in last and 'href="?page=2#rotate-h"' in last and ">Next<" not in last


def test_page_links_keep_the_other_parameters_and_a_bad_page_is_refused(admin_user, client_for) -> None:
    _, case = _long_case()
    client = client_for(admin_user)

    middle = client.get(f"/offboarding/{case.pk}/?from=leavers&page=2").content.decode()

    assert 'href="?from=leavers&amp;page=3#rotate-h"' in middle and 'href="?from=leavers&amp;page=1#rotate-h"' in middle
    assert _row_numbers(middle) == list(range(51, 101))
    assert client.get(f"/offboarding/{case.pk}/?page=abc").status_code == 400
    assert client.get(f"/offboarding/{case.pk}/?page=0").status_code == 400
    # Past the end: the last page, as every paginated table here does.
    assert _row_numbers(client.get(f"/offboarding/{case.pk}/?page=99").content.decode())[0] == 101


def test_a_short_plan_has_one_page_and_no_page_links(admin_user, client_for) -> None:
    w = build_world()
    case = cases.open_case(w.lena, leave_date=w.now.date(), reason=OffboardingCase.Reason.MARKED_LEAVING)

    page = client_for(admin_user).get(f"/offboarding/{case.pk}/").content.decode()

    assert _row_numbers(page) == [1, 2, 3, 4, 5, 6] and 'class="pagination"' not in page
    assert "Secrets to rotate (6)" in page and "3 in production vaults" in page and "2 reachable only" in page


def test_once_actions_exist_their_counts_lead_the_still_open_list_which_stops_at_ten(admin_user, client_for) -> None:
    _, case = _long_case()
    client = client_for(admin_user)
    client.post(f"/offboarding/{case.pk}/actions/")
    case.refresh_from_db()
    assert case.plan is not None
    blockers = completion.blockers(case)
    assert len(blockers) > 10

    page = client.get(f"/offboarding/{case.pk}/").content.decode()

    open_card = page.split('id="open-h"', 1)[1].split("</section>", 1)[0]
    total = case.plan.actions.count()
    assert f"{total} awaiting approval" in open_card and f"of {total} actions" in open_card
    assert open_card.count("<li") == 11  # ten blockers, then how many more and where they are
    assert f"and {len(blockers) - 10} more" in open_card and f'href="/cleanup/{case.plan.pk}/"' in open_card
