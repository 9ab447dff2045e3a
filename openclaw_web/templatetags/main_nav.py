"""The sidebar, rendered once per process for each role set and current page.

Its links depend only on the viewer's roles (which capabilities they hold) and on which page is
current; reversing its 16 URLs and testing its conditions on every request was a tenth of a
cached page's time (bench/bench_load.py, py-spy). The URL prefix is in the key too, so a
deployment under a sub-path renders its own copy. Not kept with DEBUG on (development, the demo),
where templates may change under a running process.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils.safestring import SafeString, mark_safe

from openclaw_web.roles import Role, roles_context_for, roles_of

register = template.Library()


@lru_cache(maxsize=256)
def _rendered(roles: frozenset[Role], nav: str, prefix: str) -> SafeString:
    html = render_to_string("openclaw_web/_main_nav.html", {"can": roles_context_for(roles), "nav": nav})
    return mark_safe(html)  # noqa: S308 — our template's escaped HTML


@register.simple_tag(takes_context=True)
def main_nav(context: Any) -> SafeString:
    request = context["request"]
    key = (roles_of(request.user), str(context.get("nav") or ""), get_script_prefix())
    # With DEBUG a template edit shows at the next page; the autoreloader restarts for code only.
    return _rendered.__wrapped__(*key) if settings.DEBUG else _rendered(*key)
