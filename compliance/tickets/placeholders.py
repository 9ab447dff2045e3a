"""The ticket text templates: `{name}` placeholders filled from a subject's metadata.

Deliberately not `str.format` (which follows `{0.__class__...}` into attributes) nor Django's
template engine (tags, filters, autoescaping meant for HTML): a placeholder is a plain name from
PLACEHOLDERS, replaced by plain text. JSON encoding happens afterwards, with `json.dumps`, on the
finished strings, so no text can break out of its JSON string.
"""

from __future__ import annotations

import re

from openclaw_web.text import one_line

# Every name a template may use, with what it holds. All are metadata: no secret value, notes
# text, fingerprint or finding key (a duplicate finding's key derives from a fingerprint).
PLACEHOLDERS: dict[str, str] = {
    "subject": "What the ticket is about: Finding, Cleanup plan or Offboarding case",
    "title": "The finding's, plan's or case's title",
    "kind": "The finding kind (e.g. Weak secret), or the subject's kind",
    "severity": "High, Medium or Low (findings); empty otherwise",
    "status": "Open, Accepted risk, Draft, Approved, …",
    "account": "The 1Password account name",
    "vault": "The vault's name",
    "item_title": "The item's title",
    "item_id": "The item's 1Password id",
    "person": "The person's e-mail (over-permissioned findings, offboarding cases)",
    "explanation": "Why it was raised (findings), what the plan or case contains",
    "recommended_action": "What to do",
    "first_seen": "When it was first found or opened (UTC, YYYY-MM-DD HH:MM)",
    "link": "The page on OpenClaw",
}

_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_]*)\}")
# Control characters trackers refuse or render as boxes; tabs and newlines stay in descriptions.
_CONTROL = str.maketrans(dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]))
SUMMARY_MAX = 255  # Jira's summary limit; Linear titles are cut at the same length
DESCRIPTION_MAX = 30_000  # under Jira's 32,767-character text field limit


def unknown_placeholders(template: str) -> list[str]:
    return sorted({name for name in _PLACEHOLDER.findall(template) if name not in PLACEHOLDERS})


def render(template: str, values: dict[str, str]) -> str:
    """Replace each `{name}` by its value; unknown names stay as written (forms refuse them)."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        return values.get(name, "") if name in PLACEHOLDERS else match.group(0)

    return _PLACEHOLDER.sub(replace, template)


def summary_text(template: str, values: dict[str, str]) -> str:
    """One line (a summary with a newline is refused by Jira), at most SUMMARY_MAX characters."""
    return one_line(render(template, values), SUMMARY_MAX)


def description_text(template: str, values: dict[str, str]) -> str:
    text = render(template, values).translate(_CONTROL).replace("\r\n", "\n").replace("\r", "\n").strip()
    return text if len(text) <= DESCRIPTION_MAX else text[: DESCRIPTION_MAX - 1] + "…"
