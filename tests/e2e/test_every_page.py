"""Every main page, as every role, on a 1366 px laptop and a 390 px phone (issue #15, items 5-6).

The organisation is synced from the fake `op` (tests/vaults/cleanup/conftest.py), then given what
the pages show when a company uses the product: findings, a submitted cleanup plan, an open access
review, audit entries from all of it. Each role signs in in its own browser context and opens
every page tests/security/expected_access.py says it may open; on each page, at both sizes:

- the page does not scroll sideways (`document.documentElement.scrollWidth <= innerWidth`); a wide
  data table may scroll inside its own `.table-wrap`, never the page;
- no console error, no uncaught page error, no request to our server that failed or answered ≥ 400;
- the compact navigation: on a phone the menu is one short bar, not a block of wrapped links.

Problems are collected over the whole walk and reported together, so one run lists them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from compliance.reviews.periods import period_containing
from compliance.reviews.review import open_review
from openclaw_web.roles import Role
from tests.e2e.conftest import sign_in
from tests.security.expected_access import PAGE_ACCESS
from tests.vaults.cleanup.conftest import FakeOrg, fake_org  # noqa: F401 (fixture)
from vaults.cleanup.plans import generate_plan, submit_plan
from vaults.findings.models import Finding
from vaults.models import Item, OpUser, Vault

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple 9"
SIZES = {"laptop": (1366, 900), "phone": (390, 844)}
# The phone's navigation bar: one row of links (about 45 px) under nothing else; the wrapped
# block of links it replaced measured 196 px at 390 px.
PHONE_NAV_MAX_HEIGHT = 64
# Then the header: breadcrumbs, name and Sign out on one row, the search box on the next (about
# 100 px); before, long breadcrumbs pushed the name and Sign out onto rows of their own (190 px).
PHONE_HEADER_MAX_HEIGHT = 120
# Pages of templates/reviews/** are rebuilt by another change; their problems are reported with
# this mark so the walk still opens them.
REVIEWS = "reviews"

MEASURE = """() => {
    const doc = document.documentElement;
    const nav = document.querySelector('.sidebar');
    const wider = [];
    // Inside a box that scrolls or clips sideways (a data table's .table-wrap, the phone's menu bar)
    // an element may reach past the edge without widening the page.
    const clipped = (el) => { for (let up = el.parentElement; up && up !== doc; up = up.parentElement) {
        if (getComputedStyle(up).overflowX !== 'visible') return true; } return false; };
    if (doc.scrollWidth > window.innerWidth) {
        // Name the elements that reach past the right edge, innermost first, for the report.
        for (const el of document.querySelectorAll('body *')) {
            const box = el.getBoundingClientRect();
            if (box.right > window.innerWidth + 1 && !clipped(el) && wider.length < 5) {
                wider.push(el.tagName.toLowerCase() + (el.className && typeof el.className === 'string'
                    ? '.' + el.className.trim().split(/\\s+/).join('.') : '') + ' right=' + Math.round(box.right));
            }
        }
    }
    const links = document.querySelector('.sidebar nav');
    const current = document.querySelector('.sidebar nav a[aria-current="page"]');
    const shown = (el) => { const a = el.getBoundingClientRect(), b = links.getBoundingClientRect();
                            return a.left >= b.left - 1 && a.right <= b.right + 1; };
    return {scroll: doc.scrollWidth, inner: window.innerWidth, wider: wider.reverse(),
            nav: nav ? Math.round(nav.getBoundingClientRect().height) : null,
            header: Math.round(document.querySelector('header.topbar').getBoundingClientRect().height),
            current: current ? current.textContent : null, currentShown: current ? shown(current) : null};
}"""


@dataclass
class Walk:
    """What the browser reported while one role walked its pages."""

    origin: str
    problems: list[str] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)

    def listen(self, page: Any) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.events.append(f"page error: {exc}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._answered)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.events.append(f"console: {message.text}")

    def _failed(self, request: Any) -> None:
        # A request the browser cancelled because the walk moved on (the favicon of a page left at
        # once) is not one our server failed.
        if self._ours(request.url) and request.failure != "net::ERR_ABORTED":
            self.events.append(f"failed: {request.url} {request.failure}")

    def _answered(self, response: Any) -> None:
        if self._ours(response.url) and response.status >= 400:
            self.events.append(f"{response.status}: {response.url}")

    def _ours(self, url: str) -> bool:
        return url.startswith(self.origin)


@dataclass
class Organisation:
    vault: Vault
    item: Item
    person: OpUser
    finding: Finding
    plan_id: int
    review_id: int


@pytest.fixture
def organisation(fake_org: FakeOrg, team_lead: User, compliance_officer: User) -> Organisation:  # noqa: F811
    account = fake_org.account
    vault = Vault.objects.filter(account=account).order_by("-classification", "name").first()
    item = Item.objects.filter(vault__account=account).order_by("-title").first()
    person = OpUser.objects.filter(account=account).order_by("name").first()
    finding = Finding.objects.filter(account=account, item__isnull=False).order_by("kind").first()
    assert vault and item and person and finding, "the fake organisation should hold vaults, items, people, findings"
    plan, _ = generate_plan(account=account, proposed_by=team_lead)
    submit_plan(plan=plan, user=team_lead)
    review = open_review(account=account, period=period_containing(timezone.now()), opened_by=compliance_officer)
    return Organisation(vault=vault, item=item, person=person, finding=finding, plan_id=plan.pk, review_id=review.pk)


def main_pages(org: Organisation) -> list[tuple[str, str]]:
    """(URL name for the role matrix, path) of every main page, with real objects in it."""
    pages = [
        ("dashboard", reverse("dashboard")),
        ("vaults:list", reverse("vaults:list")),
        ("vaults:detail", reverse("vaults:detail", args=[org.vault.pk])),
        ("vaults:item", reverse("vaults:item", args=[org.item.pk])),
        ("vaults:people", reverse("vaults:people")),
        ("vaults:person", reverse("vaults:person", args=[org.person.pk])),
        ("findings:list", reverse("findings:list")),
        ("findings:detail", reverse("findings:detail", args=[org.finding.pk])),
        ("search", reverse("search") + "?q=" + org.item.title.split()[0][:12]),
        ("usage", reverse("usage")),
        ("sync:status", reverse("sync:status")),
        ("cleanup:list", reverse("cleanup:list")),
        ("cleanup:plan", reverse("cleanup:plan", args=[org.plan_id])),
        ("cleanup:propose", reverse("cleanup:propose") + f"?finding={org.finding.pk}"),
        ("reviews:list", reverse("reviews:list")),
        ("reviews:detail", reverse("reviews:detail", args=[org.review_id])),
        ("reports:list", reverse("reports:list")),
        ("reports:preview", reverse("reports:preview") + f"?kind=soc2&period={period_containing(timezone.now())}"),
        ("audit:list", reverse("audit:list")),
        ("profile", reverse("profile")),
        ("password_change", reverse("password_change")),
        ("people_admin", reverse("people_admin")),
    ]
    # A reviewer's inbox arrives with the reviews rebuilt for volume (issue #15, item 1); walked
    # as soon as the role matrix lists it.
    if "reviews:inbox" in PAGE_ACCESS:
        pages.append(("reviews:inbox", reverse("reviews:inbox")))
    return pages


def _check(page: Any, walk: Walk, label: str, width: int) -> None:
    seen = page.evaluate(MEASURE)
    if seen["scroll"] > seen["inner"]:
        walk.problems.append(f"{label}: page is {seen['scroll']} px wide in {seen['inner']} px {seen['wider']}")
    if width < 600 and (seen["nav"] is None or seen["nav"] > PHONE_NAV_MAX_HEIGHT):
        walk.problems.append(f"{label}: the navigation is {seen['nav']} px tall on a phone")
    if width < 600 and seen["header"] > PHONE_HEADER_MAX_HEIGHT:
        walk.problems.append(f"{label}: the header is {seen['header']} px tall on a phone")
    if seen["current"] and not seen["currentShown"]:
        walk.problems.append(f"{label}: the current page's link ({seen['current']}) is scrolled out of the menu bar")


def walk_as(browser: Any, origin: str, user: User, role: Role, pages: list[tuple[str, str]]) -> Walk:
    walk = Walk(origin=origin)
    context = browser.new_context(viewport=dict(zip(("width", "height"), SIZES["laptop"], strict=True)))
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        walk.listen(page)
        sign_in(page, origin, user.username, PASSWORD)
        page.wait_for_url(f"{origin}/")
        for name, path in pages:
            if role not in PAGE_ACCESS[name]:
                continue
            mark = f" [{REVIEWS}]" if name.startswith("reviews:") else ""
            for size, (width, height) in SIZES.items():
                page.set_viewport_size({"width": width, "height": height})
                walk.events.clear()
                response = page.goto(origin + path, wait_until="load")
                label = f"{role.value} {size} {path}{mark}"
                walk.opened.append(name)
                if response is None or response.status != 200:
                    walk.problems.append(f"{label}: answered {response and response.status}")
                    continue
                _check(page, walk, label, width)
                walk.problems.extend(f"{label}: {event}" for event in walk.events)
    finally:
        context.close()
    return walk


@pytest.fixture
def people_by_role(
    admin_user: User, team_lead: User, approver: User, compliance_officer: User, auditor: User, viewer: User
) -> dict[Role, User]:
    return {Role.ADMIN: admin_user, Role.TEAM_LEAD: team_lead, Role.APPROVER: approver,
            Role.COMPLIANCE_OFFICER: compliance_officer, Role.AUDITOR: auditor, Role.VIEWER: viewer}  # fmt: skip


def test_every_main_page_fits_both_screens_for_every_role_without_errors(
    browser: Any, live_server: Any, organisation: Organisation, people_by_role: dict[Role, User]
) -> None:
    pages = main_pages(organisation)
    assert {name for name, _ in pages} <= set(PAGE_ACCESS), "every page walked is in the role matrix"
    problems: list[str] = []
    opened: dict[Role, list[str]] = {}
    for role, user in people_by_role.items():
        walk = walk_as(browser, live_server.url, user, role, pages)
        problems += walk.problems
        opened[role] = walk.opened
    # The walk really went everywhere each role may go, at both sizes, and nowhere else.
    assert len(opened[Role.ADMIN]) == 2 * len(pages)
    assert "vaults:item" in opened[Role.VIEWER] and "reviews:detail" not in opened[Role.VIEWER]
    assert "audit:list" in opened[Role.AUDITOR] and "cleanup:propose" not in opened[Role.AUDITOR]
    assert problems == [], "\n".join(problems)
