"""Rendered fragments of the heavy pages, served again while the database has not changed.

A fragment is stored under the PostgreSQL snapshot read before rendering it
(`pg_current_snapshot()`: which transactions are visible). Any committed write anywhere — a
sync, a findings run, a person accepting a risk, an API call's audit entry — gives later
requests another snapshot, so they render afresh: there is no invalidation to forget. A
fragment rendered after snapshot S holds data at least as new as S, and once anything has
changed no later request reads S again, so an entry is never served after a change.

Also in the key: the fragment's name, the request's path and query, the viewer's roles (the
only per-person input of these fragments: which buttons and columns show) and the minute
(relative times such as "3 minutes ago"). Fragments hold no CSRF token and nothing else of one
session; they hold metadata only, like every page (no secret value ever reaches a page).

Off — rendered every time — on SQLite (the demo) and inside a transaction, where a request sees
its own uncommitted writes but no snapshot names them (the test suite runs views inside one).
A cache that does not answer (Redis down) costs speed, never a page.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

from openclaw_web.roles import roles_of

logger = logging.getLogger(__name__)

# An entry outlives its minute by half a minute at most; the snapshot decides freshness.
FRAGMENT_SECONDS = 90
_NOT_READ = object()


def database_state() -> str | None:
    """The visible-transactions snapshot, or None where fragments are not cached."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_snapshot()::text")
        row = cursor.fetchone()
    return str(row[0]) if row else None


def _state_of(request: HttpRequest) -> str | None:
    # Read once per request, before the first fragment: every fragment of a page shares it.
    state = getattr(request, "_fragment_state", _NOT_READ)
    if state is _NOT_READ:
        state = database_state()
        request._fragment_state = state  # type: ignore[attr-defined]  # per-request memo
    return state  # type: ignore[return-value]  # str | None once read (the sentinel is object)


def fragment_key(request: HttpRequest, name: str, state: str) -> str:
    roles = ",".join(sorted(role.value for role in roles_of(request.user)))
    minute = str(int(time.time() // 60))
    raw = "\x1f".join((name, request.get_full_path(), roles, minute, state))
    return "fragment:" + hashlib.sha256(raw.encode()).hexdigest()


def cached_fragment(request: HttpRequest, name: str, render: Callable[[], str]) -> SafeString:
    """`render()` (which runs the fragment's queries and template), or the HTML it returned for
    the same key. `render` must not output a CSRF token."""
    state = _state_of(request)
    if state is None:
        return mark_safe(render())  # noqa: S308 — HTML our templates rendered and escaped
    key = fragment_key(request, name, state)
    try:
        html = cache.get(key)
    except Exception:  # any backend's outage (Redis down): the page renders uncached
        logger.warning("fragment cache unavailable; rendering %s uncached", name, exc_info=True)
        return mark_safe(render())  # noqa: S308 — HTML our templates rendered and escaped
    if html is None:
        html = render()
        try:
            cache.set(key, html, FRAGMENT_SECONDS)
        except Exception:  # as above
            logger.warning("fragment cache unavailable; %s not kept", name, exc_info=True)
    return mark_safe(html)  # noqa: S308 — HTML our templates rendered and escaped, kept by us
