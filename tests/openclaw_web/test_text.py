"""One single-line cleaner (openclaw_web/text.one_line) for every mail subject, tracker summary,
chat headline and label built from hostile 1Password text."""

from __future__ import annotations

import pytest

from compliance.alerts.payloads import Alert, email_message
from compliance.tickets.placeholders import SUMMARY_MAX, summary_text
from openclaw_web.text import one_line

HOSTILE = "Stripe\r\nBcc: evil@example.com\t\x07key\u202egpj.exe\u200b\x85\x9b end"


def test_it_flattens_newlines_and_drops_hidden_characters() -> None:
    assert one_line(HOSTILE) == "Stripe Bcc: evil@example.com keygpj.exe end"


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("exactly ten", 11, "exactly ten"),  # decoy: at the limit, untouched
        ("a b c d e f", 5, "a b…"),  # cut, no dangling space before the ellipsis
        ("café — naïve 東京", None, "café — naïve 東京"),  # decoy: ordinary non-ASCII text stays
        (42, None, "42"),
    ],
)
def test_it_keeps_ordinary_text_and_cuts_with_an_ellipsis(text: object, limit: int | None, expected: str) -> None:
    assert one_line(text, limit) == expected


def test_the_mail_alert_and_ticket_callers_use_it() -> None:
    alert = Alert(id="a1", event="alert.raised", kind="k", title=HOSTILE, severity="high", account="Acme\nInc",
                  url="/x", raised_at="now", details={"vault\n": "Pay\u202ements"})  # fmt: skip
    subject, body = email_message(alert)
    assert subject == "[OpenClaw alert] " + one_line(HOSTILE)
    assert "Account: Acme Inc" in body and "vault: Payments" in body
    summary = summary_text("{title}" * 40, {"title": HOSTILE})
    assert "\n" not in summary and "\u202e" not in summary and len(summary) == SUMMARY_MAX
