"""Who is calling, and may they: a bearer API token or the browser session, then the same
capability check the pages make.

Every route's auth object carries the capability it needs (`route_capability`), so the
authorization test can walk the routers and fail on a route without one.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer

from openclaw_web import tokens
from openclaw_web.roles import Capability, has_capability


class ApiAuth(HttpBearer):
    """`Authorization: Bearer <token>`, or else the signed-in session (the API is GET-only, so a
    session call cannot change state and needs no CSRF token).

    1. A present Authorization header must be a valid bearer token: a bad one is a 401 even with
       a session, so a script never silently runs as whoever is signed in.
    2. No header: the session user, if signed in (two-factor is enforced for sessions by
       `openclaw_web.security.TwoFactorMiddleware` before this runs).
    3. The user must hold USE_API and this route's capability, or the answer is a 403.
    """

    def __init__(self, capability: Capability) -> None:
        super().__init__()
        self.route_capability = capability

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get("Authorization")
        if header is not None:
            scheme, _, value = header.partition(" ")
            token = tokens.token_for(value) if scheme.lower() == "bearer" else None
            if token is None:
                return None
            user: Any = token.user
            request.api_token = token  # type: ignore[attr-defined]  # read by api.py's audit hook
        elif request.user.is_authenticated:
            user = request.user
        else:
            return None
        request.api_user = user  # type: ignore[attr-defined]  # read by api.py's audit hook
        for capability in (Capability.USE_API, self.route_capability):
            if not has_capability(user, capability):
                raise HttpError(403, f"Your role does not allow: {capability.value}.")
        return user

    def authenticate(self, request: HttpRequest, token: str) -> Any:  # pragma: no cover - __call__ does it
        return None
