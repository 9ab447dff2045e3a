"""The only URL fetcher WeasyPrint gets (DESIGN invariant 7): it serves the app's own static
files and refuses everything else — `file://`, `http(s)://` anywhere (cloud metadata at
169.254.169.254 included), `data:` — without opening a socket or a file outside the static roots.

Report HTML uses `BASE_URL` as its base, so `{% static %}` paths resolve to
`https://openclaw.invalid/static/...`; `.invalid` is reserved (RFC 2606) and never resolved: the
fetcher maps such URLs to files found by the staticfiles finders (or under STATIC_ROOT).
Redirects cannot happen because nothing is fetched over a network.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from weasyprint.urls import URLFetcher, URLFetcherResponse

STATIC_HOST = "openclaw.invalid"
BASE_URL = f"https://{STATIC_HOST}/"
# Our static assets are a few kB; anything bigger is not ours to embed.
MAX_BYTES = 5 * 1024 * 1024


class FetchRefused(ValueError):
    """A URL outside the app's static files. WeasyPrint logs it and renders without the resource."""


def static_prefix() -> str:
    return "/" + settings.STATIC_URL.strip("/") + "/"


def _static_file(url: str) -> Path | None:
    """The file a URL names when it is one of ours, else None."""
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.netloc != STATIC_HOST or parts.query or parts.username or parts.port:
        return None
    prefix = static_prefix()
    if not parts.path.startswith(prefix):
        return None
    relative = unquote(parts.path[len(prefix):])
    pure = PurePosixPath(relative)
    if not relative or relative.startswith("/") or "\\" in relative or "\x00" in relative or ".." in pure.parts:
        return None
    found = finders.find(str(pure))
    candidates = [Path(found)] if isinstance(found, str) else []
    if settings.STATIC_ROOT:
        candidates.append(Path(settings.STATIC_ROOT) / pure)
    for candidate in candidates:
        if candidate.is_file() and not candidate.is_symlink():
            return candidate
    return None


class StaticOnlyFetcher(URLFetcher):
    """Records every attempt (`attempts`) and every refusal (`refused`), for tests and logs."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=("https",), allow_redirects=False, fail_on_errors=False, timeout=1)
        self.attempts: list[str] = []
        self.refused: list[str] = []
        self.served: list[str] = []

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        self.attempts.append(url)
        path = _static_file(url)
        if path is None or path.stat().st_size > MAX_BYTES:
            self.refused.append(url)
            raise FetchRefused(f"refused to fetch {url[:200]!r}: only the app's static files are served")
        self.served.append(url)
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": mime})

    def open(self, url: object, data: object = None, timeout: object = None) -> URLFetcherResponse:
        # URLFetcher is an OpenerDirector: make sure no code path reaches urllib's handlers.
        return self.fetch(getattr(url, "full_url", str(url)))

    def __call__(self, url: str) -> URLFetcherResponse:
        return self.fetch(url)


def static_url(path: str) -> str:
    """Absolute URL of a static file under BASE_URL (what templates' {% static %} resolves to)."""
    return BASE_URL.rstrip("/") + static_prefix() + path.lstrip("/")
