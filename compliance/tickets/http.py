"""One JSON POST to a tracker through the shared safe sender (openclaw_web/outbound.py: http(s)
only, link-local and metadata addresses refused after resolution, no redirects, one deadline for
the whole exchange, a capped answer, no proxy).

Redirects are refused because a tracker that answers a create call with a redirect is either
misconfigured or pointing us elsewhere; following it would re-send the Authorization header to a
host nobody configured.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from openclaw_web import outbound

# Jira Cloud answers a create in ~0.3-1 s; 10 s in all (connect, send, the whole answer, also
# when it trickles in a byte at a time) keeps a request thread from hanging on a dead tracker
# while leaving room for a slow one. A create call returns a few hundred bytes; a hostile or
# broken server must not make the web process buffer gigabytes.
CONNECT_TIMEOUT = 3.0
TOTAL_TIMEOUT = 10.0
RESPONSE_MAX_BYTES = 256 * 1024
USER_AGENT = "OpenClaw-Tickets/1"


class PostError(Exception):
    """The request did not produce an HTTP answer (bad URL, refused, timeout, too large)."""


@dataclass(frozen=True)
class PostResult:
    status: int
    body: bytes

    def json(self) -> Any:
        """The answer as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None


def check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise PostError("Put credentials in the auth environment variable, not in the URL.")
    try:
        outbound.check_url(url)
    except outbound.UnsafeAddress as exc:
        raise PostError(str(exc)) from None


def post_json(url: str, payload: dict[str, Any], *, authorization: str = "") -> PostResult:
    """POST `payload` as JSON; PostError when there is no HTTP answer. A redirect or an error
    status is returned as an answer: the caller's parser says what it means for a tracker."""
    check_url(url)
    headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": USER_AGENT}
    if authorization:
        headers["Authorization"] = authorization
    body = json.dumps(payload, ensure_ascii=True).encode()
    answer = outbound.post(url, body, headers=headers, connect_timeout=CONNECT_TIMEOUT, total_timeout=TOTAL_TIMEOUT,
                           max_bytes=RESPONSE_MAX_BYTES)  # fmt: skip
    if answer.status_code is None:
        raise PostError(f"The request failed: {answer.error}"[:300])
    return PostResult(status=answer.status_code, body=answer.body)
