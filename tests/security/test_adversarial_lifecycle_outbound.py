"""Adversarial review of issue #16: what leaves OpenClaw for outside systems (alert webhooks,
Slack, ticket trackers). A receiver is an attacker's server as soon as someone mistypes an
address or a tracker is compromised. Real local HTTP servers started here; no mocks.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from compliance.alerts import http as alert_http
from compliance.alerts import payloads
from compliance.tickets import sending
from compliance.tickets.http import PostError
from compliance.tickets.http import check_url as ticket_check_url
from compliance.tickets.models import TicketDestination

DRIP_SECONDS = 12


def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def dripping() -> Iterator[str]:
    """Answers 200 at once, then one byte of body per second for DRIP_SECONDS seconds: each read
    arrives well inside any per-read timeout."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # http.server's naming
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", str(DRIP_SECONDS))
            self.end_headers()
            for _ in range(DRIP_SECONDS):
                try:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(1)

        def log_message(self, format: str, *args: Any) -> None:  # the base class's name
            pass

    yield from _serve(Handler)


def test_an_alert_receiver_that_trickles_its_answer_cannot_hold_a_worker_past_the_total_timeout(dripping: str) -> None:
    """compliance/alerts/http.py promises "short timeouts: a slow receiver costs one worker a few
    seconds" (TOTAL_TIMEOUT = 5 s, and deliver.CLAIM_TIMEOUT relies on it). httpx's timeout is
    per read, and the body is read whole: a receiver sending a byte a second holds the worker
    as long as it likes (and a huge body is buffered whole). tickets/http.py does this right
    (a deadline and a byte cap while streaming)."""
    started = time.monotonic()
    outcome = alert_http.post(dripping + "/hook", b"{}", headers={})
    elapsed = time.monotonic() - started

    assert elapsed < alert_http.TOTAL_TIMEOUT + 2, f"one alert POST held the worker {elapsed:.1f} s (outcome {outcome})"


def test_a_ticket_tracker_that_trickles_its_answer_is_cut_at_the_deadline(dripping: str) -> None:
    """Decoy / property that holds: the ticket sender's deadline covers a trickling answer."""
    from compliance.tickets import http as ticket_http

    started = time.monotonic()
    with pytest.raises(PostError):
        ticket_http.post_json(dripping + "/x", {"a": 1})
    assert time.monotonic() - started < ticket_http.TOTAL_TIMEOUT + 2


@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/latest/meta-data/iam/security-credentials/", "http://[fd00:ec2::254]/latest/meta-data/"],
)
def test_alert_and_ticket_addresses_refuse_the_cloud_metadata_service(url: str) -> None:
    """Any compliance officer may set an alert channel's or ticket destination's address, and
    "Send a test" reports the HTTP status: the cloud metadata service (link-local) is reachable
    from the worker, a blind SSRF with a status oracle. Internal trackers are legitimate; the
    link-local metadata address never is."""
    with pytest.raises(alert_http.UnsafeURL):
        alert_http.check_url(url)
    with pytest.raises(PostError):
        ticket_check_url(url)


@pytest.mark.django_db
def test_a_ticket_destination_row_naming_another_variable_sends_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Property that holds (sending.py checks the prefix again, not only the form): a row edited
    to name FINGERPRINT_KEY does not send that value as the Authorization header."""
    monkeypatch.setenv("FINGERPRINT_KEY", "canary-fingerprint-key-6b1d")
    destination = TicketDestination(name="x", kind=TicketDestination.Kind.GENERIC, url="http://127.0.0.1:9/x",
                                    auth_env="FINGERPRINT_KEY")  # fmt: skip
    with pytest.raises(sending.TicketError):
        sending.authorization_for(destination)


def test_alert_bodies_keep_hostile_titles_inert_and_drop_secret_shaped_details() -> None:
    """Property that holds: markup and a forged JSON field in a title stay one escaped string;
    detail keys that could carry secret-derived data are dropped; mail subjects are one line."""
    title = '"},"severity":"low","x":"<script>alert(1)</script>\r\nBcc: evil@example.com \u202e'
    alert = payloads.Alert(id="1", event="alert.raised", kind="break_glass_use", title=title, severity="high",
                           account="acme", url="/x", raised_at="2026-01-01T00:00:00+00:00",
                           details=payloads.safe_details({"fingerprint": "ab" * 32, "secret_ref": "s", "vault": "V"}))  # fmt: skip
    body = payloads.webhook_body(alert)
    decoded = json.loads(body)
    assert decoded["severity"] == "high" and decoded["title"] == title
    assert b"<script>" not in body and "ab" * 32 not in body.decode() and set(decoded["details"]) == {"vault"}
    subject, _ = payloads.email_message(alert)
    assert "\n" not in subject and "\r" not in subject and "\u202e" not in subject
    slack = json.loads(payloads.slack_body(alert))
    assert "<script>" not in json.dumps(slack, ensure_ascii=False)
