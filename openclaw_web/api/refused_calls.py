"""API calls refused for want of valid credentials (no token, a wrong or revoked one): throttled
per client address, and audit-logged in a bounded, value-free way.

What is decided here (issue #14, item 6):
1. Every call that ends in a 401 counts against its client address (the same resolver as the
   sign-in lockout and the audit log: `compliance.audit.client_ip`). Up to API_REFUSED_CALL_RATE
   of them (10 a minute by default) answer 401 and each leaves one "api.call" entry, with the
   path cut to 200 characters and the query reduced to its parameter *names* (no values, at most
   200 characters): a secret pasted into a URL never reaches the log.
2. Past that budget, a refused call answers 429 with Retry-After, and the address gets a single
   "api.throttled" entry per window (carrying how many throttled calls the previous throttled
   window absorbed); the throttled calls themselves are counted, not logged. The audit log thus
   grows by at most API_REFUSED_CALL_RATE + 1 entries per address per window, however many
   calls arrive.
3. A call that authenticates is never throttled here, even from a throttled address: one
   misconfigured script behind a shared NAT must not lock everyone else there out of the API, and
   tokens carry 256 random bits, so there is nothing to guess. (django-ninja's own
   AnonRateThrottle cannot do this job: ninja runs throttles only after authentication has
   succeeded, so a refused call never reaches one.)

The counters live in Django's default cache: shared by every web process when CACHE_URL points at
Redis (as in docker-compose), per process otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.throttling import SimpleRateThrottle

from compliance import audit

MAX_AUDITED_TEXT = 200
_COUNTER_TIMEOUT = 24 * 3600


@dataclass(frozen=True)
class Verdict:
    throttled: bool
    retry_after_seconds: int = 0


class RefusedCallThrottle(SimpleRateThrottle):
    """ninja's sliding-window counter, keyed by client address; fed only refused calls."""

    scope = "api_refused"

    def __init__(self) -> None:
        super().__init__(rate=settings.API_REFUSED_CALL_RATE)

    def get_cache_key(self, request: HttpRequest) -> str:
        return self.cache_format % {"scope": self.scope, "ident": audit.client_ip(request) or "unknown"}


def _throttled_key(request: HttpRequest, what: str) -> str:
    return f"api_refused_{what}_{audit.client_ip(request) or 'unknown'}"


def note_refused_call(request: HttpRequest) -> Verdict:
    """Count one refused call from the request's address; say whether it is over the budget."""
    throttle = RefusedCallThrottle()
    if throttle.allow_request(request):
        return Verdict(throttled=False)
    wait = throttle.wait()
    duration = throttle.duration or 60
    return Verdict(throttled=True, retry_after_seconds=max(1, math.ceil(wait if wait is not None else duration)))


def record_refused_call(request: HttpRequest, *, status: int) -> None:
    """One "api.call" entry for a refused call within the budget, without any query value."""
    names = ",".join(sorted(set(request.GET.keys())))
    audit.record(
        "api.call",
        actor_label="anonymous (api)",
        request=request,
        details={
            "method": request.method,
            "path": request.path[:MAX_AUDITED_TEXT],
            "query_names": names[:MAX_AUDITED_TEXT],
            "status": status,
            # Whether credentials were offered at all, never what they were.
            "via": "invalid credentials" if "Authorization" in request.headers else "none",
        },
    )


def record_throttled_call(request: HttpRequest, *, retry_after_seconds: int) -> None:
    """Count a throttled call; the first one of a window leaves one "api.throttled" entry."""
    counter = _throttled_key(request, "count")
    cache.add(counter, 0, _COUNTER_TIMEOUT)
    cache.incr(counter)
    if not cache.add(_throttled_key(request, "window"), 1, retry_after_seconds):
        return
    # The count so far includes this call; what the previous window absorbed is the rest.
    previous = int(cache.get(counter) or 1) - 1
    cache.set(counter, 1, _COUNTER_TIMEOUT)
    audit.record(
        "api.throttled",
        actor_label="anonymous (api)",
        request=request,
        details={
            "rate": settings.API_REFUSED_CALL_RATE,
            "retry_after_seconds": retry_after_seconds,
            "path": request.path[:MAX_AUDITED_TEXT],
            "throttled_calls_before_this_window": previous,
        },
    )
