"""Helpers for browser tests. The `browser` and `page` fixtures live in tests/conftest.py, defined
once for every test that drives Chromium (one Playwright instance per session)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"

# Playwright's sync API runs an event loop in this thread; the Django ORM calls made by the test
# itself (creating users) are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def screenshot(page: object, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


def sign_in(page: object, live_server_url: str, username: str, password: str) -> None:
    page.goto(f"{live_server_url}/accounts/login/")  # type: ignore[attr-defined]
    page.fill("input[name=username]", username)  # type: ignore[attr-defined]
    page.fill("input[name=password]", password)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]


@contextmanager
def signed_in_page(browser: Any, live_server_url: str, username: str, *, width: int = 390) -> Iterator[Any]:
    """A page `width` px wide (a phone by default), signed in as `username` made by `make_user`.
    Height 844 at every width: the width tests measure sideways overflow only."""
    context = browser.new_context(viewport={"width": width, "height": 844})
    page = context.new_page()
    try:
        sign_in(page, live_server_url, username, "correct horse battery staple 9")
        page.wait_for_url(f"{live_server_url}/")
        yield page
    finally:
        context.close()
