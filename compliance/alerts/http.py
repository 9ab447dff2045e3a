"""Alert webhooks and Slack: POSTs through the shared safe sender (openclaw_web/outbound.py:
http(s) only, no credentials in the address, link-local and metadata addresses refused after
resolution, no redirects, one deadline for the whole exchange, a capped answer, no proxy).

`post(url, body, headers=...)` never raises for network trouble: the `PostOutcome` says whether
the receiver took it, and whether trying again later may help.
"""

from __future__ import annotations

from openclaw_web import outbound
from openclaw_web.outbound import Answer as PostOutcome
from openclaw_web.outbound import UnsafeAddress as UnsafeURL

# Seconds, for everything (connect, send, every byte of the answer). Receivers (Slack, a ticketing
# webhook, a SIEM collector) answer in well under a second; five seconds in all keeps a beat pass
# over a few hundred due deliveries within minutes, and deliver.CLAIM_TIMEOUT relies on it.
CONNECT_TIMEOUT = 3.0
TOTAL_TIMEOUT = 5.0
# An alert receiver answers "ok" or a short error; nothing of it is kept but the status.
RESPONSE_MAX_BYTES = 64 * 1024
USER_AGENT = "OpenClaw-Alerts/1"

__all__ = ["PostOutcome", "UnsafeURL", "check_url", "post"]

check_url = outbound.check_url


def post(url: str, body: bytes, *, headers: dict[str, str]) -> PostOutcome:
    """POST `body` to `url` once. Never raises for network errors or refused addresses."""
    return outbound.post(url, body, headers={"User-Agent": USER_AGENT, **headers}, connect_timeout=CONNECT_TIMEOUT,
                         total_timeout=TOTAL_TIMEOUT, max_bytes=RESPONSE_MAX_BYTES)  # fmt: skip
