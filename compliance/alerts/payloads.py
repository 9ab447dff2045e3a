"""What each channel receives for an alert: a signed JSON body, a Slack message, an e-mail.

Built from an AlertState (the condition as raised), so a retry sends the same bytes. Metadata
only: the state never holds a value, a note or a fingerprint (`safe_details` drops keys that
could), and JSON is written with `ensure_ascii`, so hostile titles (markup, bidi controls) reach
receivers as escapes, never as live characters.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openclaw_web.text import one_line

SIGNATURE_HEADER = "X-OpenClaw-Signature"
TIMESTAMP_HEADER = "X-OpenClaw-Timestamp"
DELIVERY_HEADER = "X-OpenClaw-Delivery"

# Detail keys that could ever carry something secret-derived: dropped, whoever wrote the source.
_UNSAFE_KEY = re.compile(r"fingerprint|secret|password|value|note|history|otp|token|private", re.IGNORECASE)


def safe_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-able metadata only: unsafe-looking keys dropped, values made JSON-safe."""
    kept = {str(k): v for k, v in details.items() if not _UNSAFE_KEY.search(str(k))}
    return json.loads(json.dumps(kept, default=str))


@dataclass(frozen=True)
class Alert:
    """The fields every channel renders."""

    id: str
    event: str  # "alert.raised" or "alert.test"
    kind: str
    title: str
    severity: str
    account: str
    url: str  # absolute when SITE_URL is set (openclaw_web/site_url.py)
    raised_at: str
    details: Mapping[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"event": self.event, "id": self.id, "kind": self.kind, "title": self.title, "severity": self.severity,
                "account": self.account, "url": self.url, "raised_at": self.raised_at, "details": dict(self.details)}


# Markup characters as JSON escapes too (as Django's json_script does): a receiver that pastes the
# body into a page or a log viewer gets text, never a tag. The JSON decodes to the same strings.
_MARKUP_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def webhook_body(alert: Alert) -> bytes:
    text = json.dumps(alert.as_dict(), sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return text.translate(_MARKUP_ESCAPES).encode()


def signature(key: bytes, timestamp: str, body: bytes) -> str:
    """`sha256=` + hex HMAC-SHA256 over `timestamp + "." + body` (docs/alerts.md shows the check)."""
    return "sha256=" + hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _slack_escape(text: str) -> str:
    # Slack's own escaping: without it `<https://evil|click>` in a title becomes a live link.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_body(alert: Alert) -> bytes:
    prefix = "[TEST] " if alert.event == "alert.test" else ""
    headline = f"{prefix}OpenClaw alert ({alert.severity}): {_slack_escape(alert.title)}"
    link = f"<{_slack_escape(alert.url)}|Open in OpenClaw>" if alert.url.startswith(("http://", "https://")) else _slack_escape(alert.url)
    message = {
        "text": headline,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{headline}*"}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"{_slack_escape(alert.account)} · {alert.kind} · {alert.raised_at} · {link}"}]},
        ],
    }  # fmt: skip
    return json.dumps(message, ensure_ascii=True, separators=(",", ":")).encode()


def email_message(alert: Alert) -> tuple[str, str]:
    """(subject, body) as plain text: nothing in it is markup."""
    prefix = "[OpenClaw TEST] " if alert.event == "alert.test" else "[OpenClaw alert] "
    subject = one_line(prefix + alert.title, 200)
    lines = [one_line(alert.title), "", f"Severity: {alert.severity}", f"Kind: {alert.kind}", f"Account: {one_line(alert.account)}",
             f"Raised at: {alert.raised_at}"]  # fmt: skip
    lines += [f"{one_line(k)}: {one_line(v)}" for k, v in sorted(alert.details.items())]
    lines += ["", f"Open: {alert.url}", "", "This message contains metadata only: no vault contents, no secret values."]
    return subject, "\n".join(lines)
