"""Presentation filters for the inventory pages: bands, strength pills, safe links."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from django import template
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince

from vaults.access import ELEVATED_PERMISSIONS
from vaults.charts import band_of
from vaults.models.access import classify_user_state
from vaults.models.access import user_state_label as _user_state_label
from vaults.op.hidden_characters import code_point, hidden_character_indexes
from vaults.permission_labels import permission_label as _permission_label
from vaults.permission_labels import permissions_text as _permissions_text
from vaults.permission_labels import readable_permission_names as _readable_permission_names

register = template.Library()

_BAND_LABELS = {"healthy": "Healthy", "needs-attention": "Needs attention", "at-risk": "At risk"}
_ACRONYMS = frozenset({"api", "ssh", "sso", "url", "id", "otp", "qa", "ip", "totp", "mfa", "aws", "gcp"})
_WEAK_OP_LABELS = frozenset({"TERRIBLE", "WEAK"})
_FAIR_OP_LABELS = frozenset({"FAIR"})


@register.filter
def band(score: float | None) -> str:
    """CSS band name for a 0-100 score: `band-healthy`, `band-needs-attention`, `band-at-risk`."""
    return band_of(score)


@register.filter
def band_label(score: float | None) -> str:
    return _BAND_LABELS.get(band_of(score), "No score")


@register.filter
def zxcvbn_class(score: int | None) -> str:
    """zxcvbn 0-4: 0-2 is weak (the `weak` finding rule), 3 fair, 4 strong."""
    if score is None:
        return ""
    return "sev-high" if score <= 2 else ("sev-medium" if score == 3 else "status-succeeded")


@register.filter
def op_strength_class(label: str | None) -> str:
    value = (label or "").upper()
    if not value:
        return ""
    if value in _WEAK_OP_LABELS:
        return "sev-high"
    return "sev-medium" if value in _FAIR_OP_LABELS else "status-succeeded"


@register.filter
def humanize_label(value: str | None) -> str:
    """`VERY_GOOD` → `Very good`, `over_permissioned` → `Over permissioned`."""
    words = (value or "").replace("_", " ").replace("-", " ").strip().lower().split()
    words = [w.upper() if w in _ACRONYMS else w for w in words]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


@register.filter
def is_web_url(href: object) -> bool:
    """Only http(s) URLs become links; `javascript:`, `data:`, `file:` and the like stay text."""
    if not isinstance(href, str):
        return False
    try:
        parts = urlsplit(href.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in {"http", "https"} and bool(parts.netloc)


@register.filter
def as_text_list(value: object) -> list[str]:
    """A JSON list of strings from op, defensively: anything else becomes an empty list."""
    if not isinstance(value, list):
        return []
    return [str(v) for v in value if isinstance(v, str | int | float)]


@register.filter
def user_state_class(state: str | None) -> str:
    """Pill colour from the state's class: active green, pending (recovery, transfer) amber,
    inactive (suspended, an unknown state) red."""
    if not (state or "").strip():
        return ""
    return {"active": "status-succeeded", "pending": "sev-medium"}.get(classify_user_state(state), "sev-high")


@register.filter
def user_state_label(state: str | None) -> str:
    """`TRANSFER_SUSPENDED` → `Suspended during account transfer`; unknown states say so."""
    return _user_state_label(state)


@register.filter
def permission_pills(permissions: object) -> list[tuple[str, bool]]:
    """Sorted (name, elevated) pairs; elevated rights (manage, export) get a warning pill."""
    if not isinstance(permissions, set | frozenset | list | tuple):
        return []
    names = sorted({str(p) for p in permissions}, key=str.lower)
    return [(_permission_label(name), name.lower() in ELEVATED_PERMISSIONS) for name in names]


@register.filter
def permission_label(name: object) -> str:
    """`view_and_copy_passwords` → "View and copy passwords" (vaults/permission_labels.py)."""
    return _permission_label(str(name or ""))


@register.filter
def permissions_text(names: object) -> str:
    """A list of permission names as one line of labels: "View items, Edit items"."""
    if not isinstance(names, set | frozenset | list | tuple):
        return ""
    return _permissions_text(str(n) for n in names)


@register.filter
def readable_permissions(text: object) -> str:
    """Permission names inside a sentence (a flag reason) as their labels."""
    return _readable_permission_names(str(text or ""))


@register.filter
def delta_class(delta: int | None) -> str:
    """Fewer open findings than last quarter is better (green), more is worse (red)."""
    if not delta:
        return "delta-same"
    return "delta-better" if delta < 0 else "delta-worse"


@register.filter
def absolute(value: int | None) -> int | None:
    return None if value is None else abs(value)


_HIDDEN_BADGE_HINT = (
    "This text holds characters that are invisible or reorder what is shown; they are displayed as code points."
)


@register.filter
def reveal_hidden(value: object) -> str:
    """Plain-text form of `isolated` for places that cannot hold markup (`<title>`, `title="…"`):
    each hidden character becomes a visible `[U+202E]`. The result is escaped as usual."""
    text = "" if value is None else str(value)
    hidden = set(hidden_character_indexes(text))
    if not hidden:
        return text
    return "".join(f"[{code_point(c)}]" if i in hidden else c for i, c in enumerate(text))


def _isolate(value: object, max_chars: int | str | None, *, opening_tag: str) -> SafeString:
    text = "" if value is None else str(value)
    hidden = hidden_character_indexes(text)
    limit = None if max_chars is None or max_chars == "" else int(max_chars)
    shown = text if limit is None or len(text) <= limit else text[: max(limit - 1, 0)]
    ellipsis = "" if shown is text else "…"
    if not hidden:
        return format_html("{}{}{}</bdi>", opening_tag, shown, ellipsis)
    pieces: list[tuple[str, str]] = []  # (css class, text); "" class = ordinary text
    run_start = 0
    for index in [i for i in hidden if i < len(shown)]:
        pieces.append(("", shown[run_start:index]))
        pieces.append(("hidden-char", code_point(shown[index])))
        run_start = index + 1
    pieces.append(("", shown[run_start:]))
    body = format_html_join(
        "", "{}", ((format_html('<span class="{}">{}</span>', cls, part) if cls else part,) for cls, part in pieces)
    )
    names = list(dict.fromkeys(code_point(text[i]) for i in hidden))
    return format_html(
        '{}{}{}</bdi> <span class="hidden-chars-badge" role="note" title="{}">⚠ hidden characters: {}</span>',
        opening_tag, body, ellipsis, _HIDDEN_BADGE_HINT, ", ".join(names),
    )  # fmt: skip


@register.filter
def isolated(value: object, max_chars: int | str | None = None) -> SafeString:
    """Text from 1Password (a title, a name) rendered so it cannot reorder the page around it, and
    so what a person reads is what it holds (issue #14):

    1. always inside `<bdi>` (direction from its own first letter): an Arabic or Hebrew title, or
       a stray bidi control, is isolated from the surrounding text (`bdi { unicode-bidi: isolate }`);
    2. every hidden character (bidi control, zero-width or other invisible character) is shown in
       place as a visible `U+202E` token instead of acting on the text, and a "⚠ hidden
       characters" badge after the text lists them;
    3. `max_chars` truncates like `truncatechars`, but hidden characters are looked for in the
       whole text, so one past the cut still raises the badge.
    """
    return _isolate(value, max_chars, opening_tag=mark_safe("<bdi>"))


@register.filter
def isolated_sentence(value: object, max_chars: int | str | None = None) -> SafeString:
    """`isolated` for an English sentence or command that *contains* a title (a plan action's
    target, effect, command): left-to-right whatever the title's script, so "“מפתח” is renamed to
    “Key”" does not flip into right-to-left because its first letter is Hebrew."""
    return _isolate(value, max_chars, opening_tag=mark_safe('<bdi dir="ltr">'))


@register.filter
def duration(start: datetime | None, end: datetime | None) -> str:
    """How long from `start` to `end`, to the second: "17 s", "2 min 5 s", "1 h 3 min" — where
    `timesince` says "0 minutes" for anything under a minute (a typical incremental sync)."""
    if start is None or end is None:
        return "—"
    seconds = max(0, round((end - start).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


@register.filter
def ago(value: datetime | None) -> str:
    """ "3 minutes ago", or "just now" under a minute, where `timesince` would say "0 minutes"."""
    if value is None:
        return "—"
    if (timezone.now() - value).total_seconds() < 60:
        return "just now"
    return f"{timesince(value)} ago"
