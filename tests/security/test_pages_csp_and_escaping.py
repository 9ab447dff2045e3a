"""Every GET page of the URL conf, as an admin, on a synced organisation full of hostile data:
no inline <script>, no <style> block, no style= or on*= attribute, no javascript: URL (the CSP
would block them, so a page that needs one is broken), and hostile text is always escaped (an
unescaped `<img onerror>` would show up here as a real tag with a handler). List pages are also
asked for their htmx fragment and given a hostile search query."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse

from tests.security.hostile_org import RAW_MARKERS, build, pks_for
from tests.security.routes import ROUTES

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

HOSTILE_QUERY = "?q=" + quote('"><script>alert(1)</script>') + "&page=1"
NOT_PAGES = {"logout": "POST only, signs the walker out"}


class InlineCodeFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and not values.get("src"):
            self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("<style> block")
        for name, value in attrs:
            if name == "style":
                self.problems.append(f"style= on <{tag}>")
            if name.startswith("on"):
                self.problems.append(f"{name}= handler on <{tag}>")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL in {name} on <{tag}>")

    handle_startendtag = handle_starttag


def problems_in(html: str) -> list[str]:
    finder = InlineCodeFinder()
    finder.feed(html)
    return finder.problems + [f"unescaped {m!r}" for m in RAW_MARKERS if m in html]


def test_problems_in_catches_what_it_must():
    assert problems_in('<p style="x">') and problems_in("<script>alert(1)</script>")
    assert problems_in('<img src=x onerror="alert(1)">') and problems_in('<a href=" javascript:alert(1)">')
    assert problems_in("<style>p{}</style>") and problems_in("<svg><rect onload=alert(1) /></svg>")
    assert not problems_in('<script src="/static/htmx.min.js" defer></script><p>&lt;script&gt;alert(1)&lt;/script&gt;</p>')


def test_every_page_is_free_of_inline_code_and_renders_hostile_data_escaped(fake_org, admin_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    org = build(fake_org, admin=admin_user)
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    problems: list[str] = []
    checked = 0

    for name, _pattern, kwargs in ROUTES:
        if name.startswith("api:") or name in NOT_PAGES:
            continue
        if kwargs and "fmt" not in kwargs:  # an object id (pk, account_id, user_id…)
            pks = pks_for(name, org)
            if pks is None:
                if client.get(reverse(name, kwargs=kwargs)).status_code != 405:  # POST-only routes need none
                    problems.append(f"{name}: no object to render it with (add the route to hostile_org.pks_for)")
                continue
            urls = [reverse(name, kwargs={next(iter(kwargs)): pk}) for pk in pks]
        elif "fmt" in kwargs:
            urls = [reverse(name, kwargs={"fmt": fmt}) for fmt in ("csv", "xlsx")]
        else:
            urls = [reverse(name)]
        for url in urls:
            for variant, headers in ((url, {}), (url + HOSTILE_QUERY, {}), (url + HOSTILE_QUERY, {"HX-Request": "true"})):
                response = client.get(variant, headers=headers)
                if response.status_code in (302, 405, 286) or (response.status_code == 400 and "?" in variant):
                    continue  # a redirect, a POST-only route, htmx "stop polling", or a filter form refusing the query
                if response.status_code != 200:
                    problems.append(f"{name} {variant}: status {response.status_code}")
                    continue
                if not response.get("Content-Type", "").startswith("text/html"):
                    continue
                checked += 1
                html = (
                    b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]  # a streaming response has it
                    if response.streaming else response.content.decode()
                )
                problems += [f"{name} {variant[:120]}: {p}" for p in problems_in(html)]

    assert checked >= 40, f"the walk rendered only {checked} pages"
    assert problems == []


def test_anonymous_pages_are_free_of_inline_code_too(db):
    for url in (reverse("login"), reverse("login") + HOSTILE_QUERY, "/accounts/login/?next=" + quote('"><script>alert(1)</script>')):
        response = Client().get(url)
        assert response.status_code == 200
        assert problems_in(response.content.decode()) == []
