"""A fake 1Password Events API (v2) serving the events of an account file.

    python -m vaults.fake_op.events_server --account FILE [--host 127.0.0.1] [--port 8089]

POST /api/v2/itemusages | /api/v2/signinattempts | /api/v2/auditevents with
`{"limit": n, "start_time": "...", "end_time": "..."}` (a reset cursor) or `{"cursor": "..."}`
answers `{"cursor": "...", "has_more": bool, "items": [...]}`; items are shaped like
../shared/op-samples/events-api_*_v2_docs-example.json. GET /api/v2/auth/introspect describes
the token. Every request needs `Authorization: Bearer <events_token of the file>`.
Cursors are opaque to clients (base64 of the feed, offset and filters); a cursor at the end of a
feed keeps working and returns events added later. The file is re-read when it changes.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from vaults.fake_op import account

FEEDS = ("itemusages", "signinattempts", "auditevents")
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
CLIENTS = {
    "browser-chrome-mac": ("1Password Browser Extension", "20127", "Chrome", "119.0", "MacOSX", "14.1"),
    "desktop-windows": ("1Password for Windows", "81024", "Windows", "10.0", "Windows", "11"),
    "cli-linux": ("1Password CLI", "2.30.3", "Go", "1.22", "Linux", "6.5"),
    "mobile-ios": ("1Password for iOS", "81020", "iPhone", "17.1", "iOS", "17.1"),
}
LOCATION = {"country": "DE", "region": "Berlin", "city": "Berlin", "longitude": 13.405, "latitude": 52.52}

Row = dict[str, Any]


class _AccountCache:
    """The account file, re-read only when its mtime or inode changes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.key: tuple[int, int] | None = None
        self.data: Row = {}
        self.users: dict[str, Row] = {}
        self.lock = threading.Lock()

    def get(self) -> tuple[Row, dict[str, Row]]:
        stat = os.stat(self.path)
        with self.lock:
            if self.key != (stat.st_mtime_ns, stat.st_ino):
                self.data = account.load(self.path)
                self.users = {u["id"]: u for u in self.data["users"]}
                self.key = (stat.st_mtime_ns, stat.st_ino)
            return self.data, self.users


def _client(key: str, ip: str) -> Row:
    app, version, platform, platform_version, os_name, os_version = CLIENTS.get(key, CLIENTS["cli-linux"])
    return {
        "app_name": app,
        "app_version": version,
        "platform_name": platform,
        "platform_version": platform_version,
        "os_name": os_name,
        "os_version": os_version,
        "ip_address": ip,
    }


def _user(users: dict[str, Row], user_id: str, account_id: str) -> Row:
    user = users.get(user_id, {"name": "", "email": ""})
    kind = "service_account" if user.get("type") == "SERVICE_ACCOUNT" else "user"
    return {
        "uuid": user_id,
        "name": user["name"],
        "email": user["email"],
        "user_type": kind,
        "user_account_uuid": account_id,
    }


def expand(feed: str, event: Row, users: dict[str, Row], account_id: str) -> Row:
    """The compact stored event in the Events API's shape."""
    if feed == "itemusages":
        return {
            "uuid": event["uuid"],
            "timestamp": event["timestamp"],
            "used_version": event["used_version"],
            "vault_uuid": event["vault_uuid"],
            "item_uuid": event["item_uuid"],
            "action": event["action"],
            "user": _user(users, event["user_uuid"], account_id),
            "client": _client(event["client"], event["ip"]),
            "location": dict(LOCATION),
            "account_uuid": account_id,
        }
    if feed == "signinattempts" and event.get("older_shape"):
        # events-api_signinattempts_elastic-pipeline-test.json: the country at the top level
        # (a code or a full name), no `location`, no account uuid.
        return {
            "uuid": event["uuid"],
            "session_uuid": event["session_uuid"],
            "timestamp": event["timestamp"],
            "country": event["country"],
            "category": event["category"],
            "type": event["type"],
            "details": event.get("details"),
            "target_user": {k: v for k, v in _user(users, event["user_uuid"], account_id).items() if k in ("uuid", "name", "email")},
            "client": _client(event["client"], event["ip"]),
        }
    if feed == "signinattempts":
        return {
            "uuid": event["uuid"],
            "session_uuid": event["session_uuid"],
            "timestamp": event["timestamp"],
            "category": event["category"],
            "type": event["type"],
            "country": event["country"],
            "details": event.get("details"),
            "target_user": _user(users, event["user_uuid"], account_id),
            "client": _client(event["client"], event["ip"]),
            "location": dict(LOCATION),
            "account_uuid": account_id,
        }
    actor = _user(users, event["actor_uuid"], account_id)
    out: Row = {
        "uuid": event["uuid"],
        "timestamp": event["timestamp"],
        "actor_uuid": event["actor_uuid"],
        "actor_details": {k: actor[k] for k in ("uuid", "name", "email")},
        "action": event["action"],
        "object_type": event["object_type"],
        "object_uuid": event["object_uuid"],
    }
    if event["object_type"] == "user" and event["object_uuid"] in users:
        target = _user(users, event["object_uuid"], account_id)
        out["object_details"] = {k: target[k] for k in ("uuid", "name", "email")}
    if event.get("aux_uuid"):
        aux = _user(users, event["aux_uuid"], account_id)
        out["aux_uuid"] = event["aux_uuid"]
        out["aux_details"] = {k: aux[k] for k in ("uuid", "name", "email")}
    if event.get("aux_info"):
        out["aux_info"] = event["aux_info"]
    out["session"] = {
        "uuid": event["uuid"],
        "login_time": event["timestamp"],
        "device_uuid": "fakeopdevice",
        "ip": event["ip"],
    }
    out["location"] = dict(LOCATION)
    out["actor_account_uuid"] = account_id
    out["account_uuid"] = account_id
    return out


def encode_cursor(state: Row) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str) -> Row:
    return json.loads(base64.urlsafe_b64decode(cursor.encode()))


def page(data: Row, users: dict[str, Row], feed: str, body: Row) -> Row:
    """One page of a feed for a reset cursor ({limit, start_time, end_time}) or a cursor."""
    if "cursor" in body:
        state = decode_cursor(str(body["cursor"]))
        if state.get("feed") != feed:
            raise ValueError("cursor belongs to another feed")
    else:
        limit = int(body.get("limit") or DEFAULT_LIMIT)
        state = {
            "feed": feed,
            "offset": 0,
            "limit": max(1, min(limit, MAX_LIMIT)),
            "start_time": body.get("start_time"),
            "end_time": body.get("end_time"),
        }
    # Stored timestamps are all `YYYY-MM-DDTHH:MM:SSZ`, so normalised bounds compare as strings.
    start = account.format_ts(account.parse_ts(state["start_time"])) if state.get("start_time") else ""
    end = account.format_ts(account.parse_ts(state["end_time"])) if state.get("end_time") else "~"
    events = [e for e in data.get("events", {}).get(feed, []) if start <= e["timestamp"] < end]
    offset = state["offset"]
    chunk = events[offset : offset + state["limit"]]
    next_state = {**state, "offset": offset + len(chunk)}
    account_id = data["account"]["id"]
    return {
        "cursor": encode_cursor(next_state),
        "has_more": next_state["offset"] < len(events),
        "items": [expand(feed, e, users, account_id) for e in chunk],
    }


def make_handler(cache: _AccountCache) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet: tests and benchmarks read the responses, not a log

        def _send(self, status: int, payload: Row) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _authorised(self, data: Row) -> bool:
            header = self.headers.get("Authorization", "")
            if header != f"Bearer {data.get('events_token', '')}":
                self._send(401, {"Error": {"Message": "Unauthorized"}})
                return False
            return True

        def do_GET(self) -> None:
            data, _ = cache.get()
            if not self._authorised(data):
                return
            if self.path != "/api/v2/auth/introspect":
                self._send(404, {"Error": {"Message": "Not Found"}})
                return
            self._send(
                200,
                {
                    "uuid": "FAKEOPEVENTSTOKEN",
                    "issued_at": data.get("demo", {}).get("now", ""),
                    "features": list(FEEDS),
                    "account_uuid": data["account"]["id"],
                },
            )

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            data, users = cache.get()
            if not self._authorised(data):
                return
            feed = self.path.removeprefix("/api/v2/")
            if feed not in FEEDS:
                self._send(404, {"Error": {"Message": "Not Found"}})
                return
            try:
                body = json.loads(raw or b"{}")
                self._send(200, page(data, users, feed, body))
            except (ValueError, KeyError, TypeError):
                self._send(400, {"Error": {"Message": "Bad Request: invalid cursor or request body"}})

    return Handler


def start_events_server(account_path: str, host: str = "127.0.0.1", port: int = 0) -> tuple[str, Callable[[], None]]:
    """Serve in a background thread; returns (base URL, stop function)."""
    server = ThreadingHTTPServer((host, port), make_handler(_AccountCache(os.fspath(account_path))))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="fake-events-api", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return f"http://{host}:{server.server_address[1]}", stop


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--account", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    options = parser.parse_args(argv)
    server = ThreadingHTTPServer((options.host, options.port), make_handler(_AccountCache(options.account)))
    print(f"fake Events API on http://{options.host}:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
