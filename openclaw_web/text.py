"""Text from 1Password or a form, made safe for a single-line field: a mail subject or header, a
tracker's summary, a chat headline, a label in a list.

Item titles, vault names and people's names are hostile input: a newline in one would forge a
mail header or line, a control character breaks a header outright, and bidi or zero-width
characters make a line read differently from what it says.
"""

from __future__ import annotations

import re

# C0 and C1 control characters that str.split() does not already treat as whitespace, and the
# invisible ones: zero-width, bidi embeddings, overrides and isolates, the byte-order mark.
_HIDDEN = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def one_line(text: object, limit: int | None = None) -> str:
    """`text` without hidden characters, every run of whitespace (newlines included) one space,
    cut to `limit` characters with an ellipsis when longer."""
    flat = " ".join(_HIDDEN.sub("", str(text)).split())
    if limit is None or len(flat) <= limit:
        return flat
    return flat[: max(limit - 1, 0)].rstrip() + "…"


def plural(count: int, one: str, many: str) -> str:
    """'1 entry', '3 entries', '0 entries': text for people never says "entry(s)"."""
    return f"{count:,} {one if count == 1 else many}"
