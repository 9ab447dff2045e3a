"""One URL serves a page and its htmx fragment (django-htmx-patterns)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from openclaw_web.http import HtmxHttpRequest


def wants_fragment(request: HtmxHttpRequest) -> bool:
    """True for htmx swaps. htmx's history-restore request (a cache miss on Back) must get a
    whole page, not a table."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def render_page_or_fragment(request: HtmxHttpRequest, page: str, fragment: str, context: dict[str, Any]) -> HttpResponse:
    """`Vary: HX-Request` keeps browser caches from serving the fragment for the page."""
    response = render(request, fragment if wants_fragment(request) else page, context)
    patch_vary_headers(response, ("HX-Request",))
    return response
