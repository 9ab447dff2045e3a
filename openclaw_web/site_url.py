"""Links to OpenClaw's own pages in text that leaves the browser: e-mails, webhook and Slack
payloads, tickets and their CSV export. A relative link in a mail leads nowhere, so every such
link is made absolute from SITE_URL, the address people reach OpenClaw at (settings.py); the
deploy check below warns while it is unset or not an http(s) address.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.http import HttpRequest


def is_usable(site_url: str) -> bool:
    parts = urlsplit(site_url)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not (parts.query or parts.fragment)


def absolute_url(path: str, *, request: HttpRequest | None = None) -> str:
    """`path` (from `reverse`) on SITE_URL. Without SITE_URL: on the address of `request` when
    one is at hand (a page's own host), else the path alone, which only a browser on OpenClaw
    can follow."""
    base = str(settings.SITE_URL).strip().rstrip("/")
    if base:
        return base + path
    return request.build_absolute_uri(path) if request is not None else path


@checks.register(checks.Tags.security, deploy=True)
def check_site_url(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    site_url = str(settings.SITE_URL).strip()
    if is_usable(site_url):
        return []
    what = "is not set" if not site_url else f"({site_url!r}) is not an http:// or https:// address"
    return [
        checks.Warning(
            f"SITE_URL {what}: links in e-mails, alerts and tickets are relative and lead nowhere.",
            hint="Set SITE_URL to the address people open OpenClaw at, e.g. https://openclaw.example.com.",
            id="openclaw.W001",
        )
    ]
