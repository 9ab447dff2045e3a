"""How the API writes JSON: one renderer for ninja's answers and for the answers kept in the cache
(openclaw_web/api/cached.py), so both are the same bytes under the same Content-Type."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.renderers import JSONRenderer


class EscapedJSONRenderer(JSONRenderer):
    """JSON with `<`, `>` and `&` written as \\u escapes (and, by json.dumps' default, every
    non-ASCII character too, right-to-left overrides included): an item titled
    `<script>...</script>` stays inert even where a response is sniffed or pasted into HTML.
    Safe to do on the serialised text because those characters only ever occur inside strings."""

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> Any:
        text = super().render(request, data, response_status=response_status)
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


RENDERER = EscapedJSONRenderer()
# What NinjaAPI.get_content_type() answers for this renderer.
CONTENT_TYPE = f"{RENDERER.media_type}; charset={RENDERER.charset}"
