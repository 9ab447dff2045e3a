"""The NinjaAPI instance mounted at /api/v1/ (namespace "api").

Every authenticated call leaves exactly one audit entry ("api.call" with method, path, query and
status; an endpoint may name a more specific action, as a report download does). Calls refused
for want of valid credentials are throttled per client address and logged without query values
and in bounded number (openclaw_web/api/refused_calls.py says how).
No Swagger page: it loads its script from a CDN, which the Content-Security-Policy forbids; the
generated document is served at /api/v1/openapi.json.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from ninja import NinjaAPI

from compliance import audit
from openclaw_web.api import findings, inventory, offboarding, refused_calls, reports, reviews, search, usage
from openclaw_web.api.rendering import RENDERER

MAX_AUDITED_QUERY = 500


def audit_call(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Wrap an operation's `run` (authentication included) to record its outcome."""

    @wraps(run)
    def audited(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = run(request, *args, **kwargs)
        user = getattr(request, "api_user", None)
        if user is None and response.status_code == 401:
            return _refused(request, response)
        token = getattr(request, "api_token", None)
        details = {
            "method": request.method,
            "path": request.path,
            "query": request.META.get("QUERY_STRING", "")[:MAX_AUDITED_QUERY],
            "status": response.status_code,
            "via": f"token {token.prefix}" if token is not None else ("session" if user is not None else "none"),
            **getattr(request, "audit_details", {}),
        }
        audit.record(
            getattr(request, "audit_action", "api.call"),
            actor=user,
            actor_label="" if user is not None else "anonymous (api)",
            request=request,
            target=getattr(request, "audit_target", None),
            details=details,
        )
        return response

    return audited


def _refused(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """A call without valid credentials: within the address's budget, its 401 and one value-free
    entry; past it, a 429 with Retry-After and at most one entry per window."""
    verdict = refused_calls.note_refused_call(request)
    if not verdict.throttled:
        refused_calls.record_refused_call(request, status=response.status_code)
        return response
    refused_calls.record_throttled_call(request, retry_after_seconds=verdict.retry_after_seconds)
    throttled = api.create_response(request, {"detail": "Too many refused calls from this address; try again later."}, status=429)
    throttled["Retry-After"] = str(verdict.retry_after_seconds)
    return throttled


api = NinjaAPI(
    title="OpenClaw API",
    version="1",
    description="Read-only vault hygiene and compliance data. Authenticate with "
    "`Authorization: Bearer <token>` (create a token on your profile page).",
    urls_namespace="api",
    docs_url=None,
    renderer=RENDERER,
)
api.add_decorator(audit_call, mode="view")
api.add_router("", inventory.router)
api.add_router("", findings.router)
api.add_router("", reviews.router)
api.add_router("", reports.router)
api.add_router("", search.router)
api.add_router("", usage.router)
api.add_router("", offboarding.router)
