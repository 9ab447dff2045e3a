"""The shared safe POST (openclaw_web/outbound.py) that alert webhooks and ticket trackers use.
Real local HTTP servers on 127.0.0.1 and real DNS resolution of "localhost"; no mocks."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from compliance.alerts import http as alert_http
from compliance.tickets import http as ticket_http
from openclaw_web import outbound


def _serve(do_post: Callable[[BaseHTTPRequestHandler], None]) -> Iterator[tuple[int, list[str]]]:
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # http.server's naming
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            hits.append(self.path)
            do_post(self)

        def log_message(self, format: str, *args: Any) -> None:  # the base class's name
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1], hits
    finally:
        server.shutdown()
        server.server_close()


def _answer(body: bytes, *, delay_headers: float = 0.0, then_wait: float = 0.0) -> Callable[[BaseHTTPRequestHandler], None]:
    def do_post(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(delay_headers)
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body) + (10 if then_wait else 0)))
        handler.end_headers()
        try:
            handler.wfile.write(body)
            handler.wfile.flush()
            time.sleep(then_wait)  # promised 10 more bytes, sends none
        except OSError:
            return

    return do_post


@pytest.fixture
def ok_server() -> Iterator[tuple[int, list[str]]]:
    yield from _serve(_answer(b'{"key": "SEC-1"}'))


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("169.254.169.254", True),
        ("169.254.0.1", True),
        ("fd00:ec2::254", True),
        ("fe80::1", True),
        ("::ffff:169.254.169.254", True),  # the metadata service written as IPv4-mapped IPv6
        ("0.0.0.0", True),  # noqa: S104  # an address checked, not bound
        ("169.255.0.1", False),  # decoy: next to link-local, not in it
        ("fd00:ec2::253", False),  # decoy: a private IPv6 address next to the metadata one
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("93.184.215.14", False),
    ],
)
def test_link_local_and_metadata_addresses_are_refused_and_their_neighbours_are_not(address: str, refused: bool) -> None:
    assert bool(outbound.refusal_for_ip(address, allow_private=True)) is refused


def test_private_and_loopback_addresses_are_refused_only_when_the_setting_says_so() -> None:
    for address in ("127.0.0.1", "10.0.0.5", "192.168.1.1", "::1", "fd12:3456::1"):
        assert outbound.refusal_for_ip(address, allow_private=True) == ""
        assert "private or loopback" in outbound.refusal_for_ip(address, allow_private=False)
    assert outbound.refusal_for_ip("93.184.215.14", allow_private=False) == ""  # decoy: public stays allowed


def test_a_host_name_is_checked_after_resolution_not_only_as_written(ok_server, settings) -> None:
    """The name "localhost" passes check_url (no lookup); the sender resolves it to 127.0.0.1
    and refuses it when private addresses are off, before any byte is sent."""
    port, hits = ok_server
    settings.OUTBOUND_ALLOW_PRIVATE = False
    url = f"http://localhost:{port}/hook"
    outbound.check_url(url)  # a name: no lookup in forms

    answer = alert_http.post(url, b"{}", headers={})

    assert answer.status_code is None and answer.refused and not answer.retryable, answer
    assert "private or loopback" in answer.error and hits == []
    with pytest.raises(ticket_http.PostError, match="refused"):
        ticket_http.post_json(url, {"a": 1})
    assert hits == []

    settings.OUTBOUND_ALLOW_PRIVATE = True  # the self-hosted default: the same address is posted to
    assert alert_http.post(url, b"{}", headers={}).ok and hits == ["/hook"]


def test_a_metadata_address_is_refused_by_the_sender_and_by_both_forms_checks() -> None:
    url = "http://169.254.169.254/latest/meta-data/"
    answer = alert_http.post(url, b"{}", headers={})
    assert answer.refused and not answer.retryable and answer.duration_ms < 100
    with pytest.raises(ticket_http.PostError):
        ticket_http.post_json(url, {"a": 1})


def test_the_deadline_also_bounds_a_read_that_starts_late() -> None:
    """Headers after 4 s, then silence: a per-read timeout would wait 4 + 5 s; the deadline ends it at 5."""
    for port, _hits in _serve(_answer(b"x", delay_headers=4.0, then_wait=8.0)):
        started = time.monotonic()
        answer = alert_http.post(f"http://127.0.0.1:{port}/hook", b"{}", headers={})
        elapsed = time.monotonic() - started
        assert answer.status_code is None and answer.retryable and "within 5 s" in answer.error, answer
        assert alert_http.TOTAL_TIMEOUT - 0.5 < elapsed < alert_http.TOTAL_TIMEOUT + 1, elapsed


def test_an_answer_over_the_cap_is_refused_and_one_under_it_is_read() -> None:
    for port, _hits in _serve(_answer(b"a" * (ticket_http.RESPONSE_MAX_BYTES + 1))):
        with pytest.raises(ticket_http.PostError, match="larger than 256 kB"):
            ticket_http.post_json(f"http://127.0.0.1:{port}/x", {"a": 1})
    for port, _hits in _serve(_answer(b"a" * ticket_http.RESPONSE_MAX_BYTES)):
        result = ticket_http.post_json(f"http://127.0.0.1:{port}/x", {"a": 1})
        assert result.status == 200 and len(result.body) == ticket_http.RESPONSE_MAX_BYTES


def test_both_callers_go_through_the_one_shared_sender() -> None:
    """No second copy of the safe-POST logic: neither caller imports httpx itself."""
    import inspect

    for module in (alert_http, ticket_http):
        assert "httpx" not in inspect.getsource(module), module.__name__


@pytest.mark.parametrize(
    "url",
    ["http://2852039166/latest/", "http://0251.0376.0251.0376/latest/", "http://[::ffff:a9fe:a9fe]/latest/"],
)
def test_the_metadata_address_in_other_spellings_is_refused_without_an_exception(url: str) -> None:
    """Decimal, octal and IPv4-mapped spellings of 169.254.169.254: refused (after resolution, by
    the URL parser, or as a literal), never raised out of post()."""
    answer = alert_http.post(url, b"{}", headers={})
    assert answer.status_code is None and answer.refused and not answer.retryable, answer
