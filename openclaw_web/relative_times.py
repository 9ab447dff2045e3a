"""Relative times ("3 minutes ago") filled into HTML after the fragment cache.

A cached fragment holds absolute times only, as `<time datetime="ISO" data-relative="ago">` (or
`"age"`: "3 months", for an item's age); `fill` writes the relative text at serving time, so a
fragment stays valid while only the clock moves, and the minute is no part of its key.
"""

from __future__ import annotations

import datetime
import re

from django.utils import timezone
from django.utils.timesince import timesince

_RELATIVE = re.compile(r'(<time datetime="([^"]+)" data-relative="(ago|age)"[^>]*>)[^<]*(</time>)')


def relative_text(moment: datetime.datetime, style: str, *, now: datetime.datetime) -> str:
    if style == "age":
        return timesince(moment, now)
    # "just now" under a minute, where timesince would say "0 minutes" (as the `ago` filter).
    if (now - moment).total_seconds() < 60:
        return "just now"
    return f"{timesince(moment, now)} ago"


def fill(html: str, *, now: datetime.datetime | None = None) -> str:
    """`html` with the text of each relative `<time>` element written for `now`."""
    if 'data-relative="' not in html:
        return html
    now = now or timezone.now()

    def replace(match: re.Match[str]) -> str:
        try:
            moment = datetime.datetime.fromisoformat(match.group(2))
        except ValueError:  # not ours to fix: keep what the template wrote
            return match.group(0)
        return f"{match.group(1)}{relative_text(moment, match.group(3), now=now)}{match.group(4)}"

    return _RELATIVE.sub(replace, html)
