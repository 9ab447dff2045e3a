"""Real local receivers for alert deliveries: an HTTP server in a thread that checks the HMAC
signature the way docs/alerts.md tells a receiver to, and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import hashlib
import hmac
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SIGNING_KEY = "whsec-test-key-7f3a9c"


def verify(key: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's check, as docs/alerts.md writes it."""
    timestamp = headers.get("x-openclaw-timestamp", "")
    expected = "sha256=" + hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers.get("x-openclaw-signature", ""))


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool


@dataclass
class HttpReceiver:
    """Answers each POST with the next scripted status (the last one repeats)."""

    url: str
    statuses: list[int]
    received: list[Received] = field(default_factory=list)
    extra_headers: dict[int, dict[str, str]] = field(default_factory=dict)

    def script(self, *statuses: int) -> None:
        self.statuses[:] = list(statuses)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_http_receiver(key: str = SIGNING_KEY) -> tuple[HttpReceiver, ThreadingHTTPServer]:
    port = _free_port()
    receiver = HttpReceiver(url=f"http://127.0.0.1:{port}/hook", statuses=[200])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            receiver.received.append(Received(self.path, headers, body, verify(key, headers, body)))
            status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
            self.send_response(status)
            for name, value in receiver.extra_headers.get(status, {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver, server


