"""Presentation filters for the inventory pages: bands, strength pills, safe links."""

from __future__ import annotations

from urllib.parse import urlsplit

from django import template

from vaults.access import ELEVATED_PERMISSIONS
from vaults.charts import band_of

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
    value = (state or "").upper()
    if value == "ACTIVE":
        return "status-succeeded"
    return "sev-high" if value in {"SUSPENDED", "DELETED", "REMOVED"} else ""


@register.filter
def permission_pills(permissions: object) -> list[tuple[str, bool]]:
    """Sorted (name, elevated) pairs; elevated rights (manage, export) get a warning pill."""
    if not isinstance(permissions, set | frozenset | list | tuple):
        return []
    names = sorted({str(p) for p in permissions}, key=str.lower)
    return [(humanize_label(name), name.lower() in ELEVATED_PERMISSIONS) for name in names]


@register.filter
def delta_class(delta: int | None) -> str:
    """Fewer open findings than last quarter is better (green), more is worse (red)."""
    if not delta:
        return "delta-same"
    return "delta-better" if delta < 0 else "delta-worse"


@register.filter
def absolute(value: int | None) -> int | None:
    return None if value is None else abs(value)
