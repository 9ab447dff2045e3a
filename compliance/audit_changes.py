"""What an audit entry says about a changed setting (an alert rule or channel, a ticket
destination): each field that changed, before → after, in the shape
`{field: {"before": ..., "after": ...}}`, and addresses shown without what may carry a token.

A webhook address may hold its credential in the path (Slack's `/services/T…/B…/secret`) or the
query (`?token=…`), so an address is logged as scheme, host and port only; whether it changed is
decided on the full address, so a new token on the same host still shows as a change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit


def address_label(url: str) -> str:
    """`https://hooks.example.com:8443/…`: scheme, host and port; "" for no address."""
    if not url:
        return ""
    parts = urlsplit(url)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # not a port number: say nothing about it
        port = ""
    rest = "/…" if (parts.path not in ("", "/") or parts.query or parts.fragment) else "/"
    return f"{parts.scheme}://{parts.hostname or ''}{port}{rest}"


def changed_fields(
    before: Mapping[str, Any], after: Mapping[str, Any], *, shown: Mapping[str, Callable[[Any], Any]] | None = None
) -> dict[str, dict[str, Any]]:
    """The fields of `after` whose value differs from `before`; `shown[field]` turns a value into
    what may be logged (e.g. `address_label`)."""
    shown = shown or {}
    return {
        name: {"before": shown.get(name, _same)(before.get(name)), "after": shown.get(name, _same)(value)}
        for name, value in after.items()
        if before.get(name) != value
    }


def _same(value: Any) -> Any:
    return value
