"""API answers served again until the data they show changes, like the pages' fragments.

Under load the findings listing was the costliest request the server answered (~30 ms of CPU a
call, four times a cached page: 50 findings validated and encoded, their related items read), and
scripts poll it. Its JSON is kept under the same data versions as the findings page
(openclaw_web/fragment_cache.py): a findings run, a finished sync, a policy edit or a person's
audited change (accepting a risk) moves them; API calls, sign-ins and a running sync do not.
The key holds the route's validated parameters (filters, cursor, limit) and the caller's roles. Every call
still passes authentication and the capability check first and still writes its audit entry
(openclaw_web/api/api.py): only the assembling of the answer is skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Schema

from openclaw_web.api.rendering import CONTENT_TYPE, RENDERER
from openclaw_web.fragment_cache import cached_text


def cached_json(request: HttpRequest, name: str, schema: type[Schema], build: Callable[[], Any]) -> HttpResponse:
    """`build()`'s answer validated by `schema` and rendered as the API renders every answer, or
    the same text from the cache. `name` identifies the answer: the route and its validated
    parameters, not the raw query string, so reordered or unknown parameters add no copy to the
    cache. `build` runs only when the data moved since. While another request renders a new
    answer this one waits for it (at most fragment_cache.WAIT_SECONDS) or renders it too: it is
    never served the answer from before the change."""

    def render() -> str:
        data = schema.model_validate(build()).model_dump()
        return str(RENDERER.render(request, data, response_status=200))

    # No last good copy: a script that polls after a findings run must get that run's answer.
    viewer = getattr(request, "api_user", None)
    text = cached_text(request, name, render, per_path=False, viewer=viewer, last_good=False)
    return HttpResponse(text, content_type=CONTENT_TYPE)
