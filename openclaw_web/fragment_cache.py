"""Rendered fragments of the heavy pages, served again until the data they show changes.

A fragment is stored under the versions of the data it shows (openclaw_web/data_versions.py),
read in one query before rendering: findings runs, finished syncs, policy edits and people's
changes move them; audit rows of reads, sessions and a running sync's heartbeat do not. Also in
the key: the fragment's name (callers add the viewer's scope where it changes the fragment),
the request's path and query, and the viewer's roles (which buttons and columns show).
Fragments hold no CSRF token, no relative time (filled per request, relative_times.py) and
nothing else of one session; they hold metadata only, like every page.

One render per missing key (single-flight): the first request takes a short lock and renders;
the others serve the previous copy of the same fragment ("last good", kept beside the version
of people's changes it was rendered at) when only sync or findings data moved since, or else
wait for the render. So a person's own change — which moves the people version — always shows
on their next page, never hidden behind an older copy.

Off — rendered every time — on SQLite (the demo) and inside a transaction (see
`data_versions.read`). A cache that does not answer (Redis down) costs speed, never a page.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

from openclaw_web import data_versions, relative_times
from openclaw_web.roles import roles_of

logger = logging.getLogger(__name__)

# Versions decide freshness; the lifetime only bounds memory and the cost of a change no version
# tracks (there should be none).
FRAGMENT_SECONDS = 15 * 60
# Longer than the slowest render measured at 100k items under load (~1.5 s, bench_load.py), so one
# render is in flight per key; short enough that a renderer that died frees the key soon.
LOCK_SECONDS = 20
# How long a request waits for another's render before rendering itself, and how often it looks.
WAIT_SECONDS = 5.0
POLL_SECONDS = 0.02
_NOT_READ = object()


def _versions_of(request: HttpRequest) -> data_versions.DataVersions | None:
    # Read once per request, before the first fragment: every fragment of a page shares it.
    versions = getattr(request, "_data_versions", _NOT_READ)
    if versions is _NOT_READ:
        versions = data_versions.read()
        request._data_versions = versions  # type: ignore[attr-defined]  # per-request memo
    return versions  # type: ignore[return-value]  # DataVersions | None once read


def fragment_key(request: HttpRequest, name: str, *, per_path: bool = True, viewer: Any = None) -> str:
    """The stable part of a fragment's key: what it is and who may see it, not which version.
    `viewer`: whose roles count when it is not the session's user (an API token's)."""
    roles = ",".join(sorted(role.value for role in roles_of(viewer if viewer is not None else request.user)))
    raw = "\x1f".join((name, request.get_full_path() if per_path else "", roles))
    return "fragment:" + hashlib.sha256(raw.encode()).hexdigest()


def _served(html: str) -> SafeString:
    return mark_safe(relative_times.fill(html))  # noqa: S308 — HTML our templates rendered and escaped, kept by us


def cached_fragment(
    request: HttpRequest, name: str, render: Callable[[], str], *, account: int | None = None, per_path: bool = True
) -> SafeString:
    """`render()` (which runs the fragment's queries and template), or the HTML it returned for
    the same data. `account`: the fragment shows one account's data only (a vault page), so other
    accounts' syncs and findings runs leave it alone. `per_path=False`: the fragment does not
    depend on the query string (a choice list), one copy serves every URL. `render` must not
    output a CSRF token."""
    return _served(cached_text(request, name, render, account=account, per_path=per_path))


def cached_text(
    request: HttpRequest,
    name: str,
    render: Callable[[], str],
    *,
    account: int | None = None,
    per_path: bool = True,
    viewer: Any = None,
    last_good: bool = True,
) -> str:
    """`cached_fragment` for text that is no HTML (an API answer): the same keys, versions and
    single flight, without filling relative times. `last_good=False`: never serve the previous
    copy while another request renders; wait for it (or render) instead, so an answer is never
    older than the data versions read for it (an API a script polls after a findings run)."""
    versions = _versions_of(request)
    if versions is None:
        return render()
    stable = fragment_key(request, name, per_path=per_path, viewer=viewer)
    key = f"{stable}:{versions.key(account=account)}"

    def guarded() -> str:
        try:
            return render()
        except Exception as error:
            raise _RenderFailed from error

    try:
        text = cache.get(key)
        if text is not None:
            _count("hit")
            return str(text)
        return _render_once(key, stable, versions.people, guarded, last_good=last_good)
    except _RenderFailed as failed:  # the page's own error, not the cache's: as if uncached
        raise failed.__cause__ from None  # type: ignore[misc]  # always set by guarded()
    except Exception:  # any backend's outage (Redis down): the page renders uncached
        logger.warning("fragment cache unavailable; rendering %s uncached", name, exc_info=True)
        return render()


class _RenderFailed(Exception):
    """A fragment's render raised: not to be mistaken for the cache being down."""


def _render_once(key: str, stable: str, people: int, render: Callable[[], str], *, last_good: bool = True) -> str:
    """1. Take the key's lock: render, keep, release. 2. Else serve the last good copy if no
    person changed anything since it was rendered (unless `last_good` is off). 3. Else wait for
    the renderer's copy; render ourselves if it does not come."""
    lock, last_good_key = f"{key}:lock", f"{stable}:last"
    if cache.add(lock, 1, LOCK_SECONDS):
        try:
            html = render()
            cache.set_many({key: html, last_good_key: (people, html)}, FRAGMENT_SECONDS)
        finally:
            cache.delete(lock)
        _count("rendered")
        return html
    previous = cache.get(last_good_key) if last_good else None
    if previous is not None and previous[0] == people:
        _count("last_good")
        return str(previous[1])
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        html = cache.get(key)
        if html is not None:
            _count("waited")
            return str(html)
    html = render()
    cache.set(key, html, FRAGMENT_SECONDS)
    _count("rendered")
    return html


def _count(outcome: str) -> None:
    """With FRAGMENT_CACHE_STATS (the load benchmark), count how fragments were served, in the
    cache itself so every worker process adds to one figure (one more round trip each)."""
    if not settings.FRAGMENT_CACHE_STATS:
        return
    key = f"fragment-stats:{outcome}"
    cache.add(key, 0, None)
    cache.incr(key)
