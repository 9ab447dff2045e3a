"""A synced fake organisation (the real fake `op`), and a real local HTTP server that answers
like Jira, Linear or a webhook, recording every request it receives."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.security.hostile_org import sync_account
from tests.vaults.conftest import fake_org, org_sizes  # noqa: F401  (fixtures)
from tests.vaults.factories import make_account, make_item, make_secret, make_vault
from vaults.findings.engine import compute_findings
from vaults.models import Account, SyncRun, Vault

TOKEN_ENV = "TICKET_AUTH_TEST"
TOKEN = "Basic c2VjLWJvdEBhY21lLmV4YW1wbGU6VElDS0VULVRPS0VOLTlmM2E3Yw=="  # a test credential


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Answer = tuple[int, dict[str, str], bytes]


@dataclass
class Tracker:
    url: str
    requests: list[Received] = field(default_factory=list)
    # path -> function(request) -> (status, headers, body); unknown paths answer 404
    routes: dict[str, Callable[[Received], Answer]] = field(default_factory=dict)


def _json(status: int, value: Any) -> Answer:
    return status, {"Content-Type": "application/json"}, json.dumps(value).encode()


def _jira_created(request: Received) -> Answer:
    return _json(201, {"id": "10042", "key": "SEC-42", "self": "http://tracker/rest/api/3/issue/10042"})


def _linear_created(request: Received) -> Answer:
    return _json(200, {"data": {"issueCreate": {"success": True, "issue": {
        "id": "2f1c0d7e-1111-4222-8333-944445555666", "identifier": "SEC-7", "url": "https://linear.app/acme/issue/SEC-7/rotate"}}}})


def _echo_auth_401(request: Received) -> Answer:
    # Some proxies echo the request headers in their error page: the credential must not travel on.
    return _json(401, {"errorMessages": [f"Bad credentials: {request.headers.get('Authorization', '')}"], "errors": {}})


DEFAULT_ROUTES: dict[str, Callable[[Received], Answer]] = {
    "/jira/rest/api/3/issue": _jira_created,
    "/jira/rest/api/2/issue": _jira_created,
    "/linear/graphql": _linear_created,
    "/webhook": lambda r: _json(200, {"key": "T-9", "url": "https://tickets.example/T-9"}),
    "/jira-401/rest/api/3/issue": _echo_auth_401,
    "/jira-500/rest/api/3/issue": lambda r: (500, {"Content-Type": "text/html"}, b"<h1>Internal error</h1>"),
    "/jira-notjson/rest/api/3/issue": lambda r: (201, {"Content-Type": "application/json"}, b"{not json"),
    "/jira-nokey/rest/api/3/issue": lambda r: _json(201, {"id": "1", "key": "<script>", "self": "x"}),
    "/jira-redirect/rest/api/3/issue": lambda r: (302, {"Location": "http://127.0.0.1:9/steal"}, b""),
    "/linear-errors/graphql": lambda r: _json(200, {"errors": [{"message": "Entity not found: Team"}], "data": None}),
    "/linear-jsurl/graphql": lambda r: _json(200, {"data": {"issueCreate": {"success": True, "issue": {
        "id": "x", "identifier": "SEC-8", "url": "javascript:alert(document.cookie)"}}}}),
}


@pytest.fixture
def tracker() -> Iterator[Tracker]:
    state = Tracker(url="", routes=dict(DEFAULT_ROUTES))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            received = Received("POST", self.path, {k: v for k, v in self.headers.items()}, self.rfile.read(length))
            state.requests.append(received)
            route = state.routes.get(self.path)
            status, headers, body = route(received) if route else (404, {}, b"no such route")
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # the base class's name
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def token_env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    return TOKEN_ENV


@pytest.fixture
def org(db: None) -> Account:
    """A small organisation written straight to the database, with its findings computed: two
    items sharing a secret (a duplicate), a weak one, an unclear name, a production vault."""
    account = make_account(name="Acme")
    vault = make_vault(account=account, name="Payments Production", classification=Vault.Classification.PRODUCTION)
    shared = "ab" * 32
    for title in ("Stripe Production API Key", "Stripe Production API Key (copy)"):
        make_secret(item=make_item(vault=vault, title=title), fingerprint=shared)
    make_secret(item=make_item(vault=vault, title="Payments Production DB Password", category="DATABASE"),
                zxcvbn_score=0, length=6, strength="TERRIBLE")  # fmt: skip
    make_item(vault=vault, title="Password")
    compute_findings(account=account)
    assert account.findings.filter(kind="duplicate").exists() and account.findings.filter(kind="weak").exists()
    return account


@pytest.fixture
def synced(fake_org: Any, db: None) -> Account:  # noqa: F811 — the imported fixture
    """The fake organisation synced through the real fake `op` (slow: for the canary scan)."""
    account = fake_org.add_account()
    run = sync_account(account)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert account.findings.exists()
    return account
