from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.op_samples import sample_json
from vaults.fake_op import account
from vaults.fake_op.events_server import start_events_server


@pytest.fixture
def events(account_file: Path) -> Iterator[str]:
    url, stop = start_events_server(str(account_file))
    yield url
    stop()


def _call(url: str, path: str, token: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    # The URL is the test's own fake Events API on 127.0.0.1, never a caller-chosen scheme.
    request = urllib.request.Request(  # noqa: S310
        url + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="GET" if body is None else "POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _sample_item_keys(feed: str) -> set[str]:
    return set(sample_json(f"events-api_{feed}_v2_docs-example.json")["items"][0])


@pytest.mark.parametrize("feed", ["itemusages", "signinattempts"])
def test_pages_follow_the_cursor_until_has_more_is_false(events: str, demo_data: dict[str, Any], feed: str) -> None:
    token = demo_data["events_token"]
    status, page = _call(events, f"/api/v2/{feed}", token, {"limit": 100, "start_time": "2020-01-01T00:00:00Z"})
    assert status == 200
    seen = list(page["items"])
    while page["has_more"]:
        assert len(page["items"]) == 100
        _, page = _call(events, f"/api/v2/{feed}", token, {"cursor": page["cursor"]})
        seen.extend(page["items"])
    assert len(seen) == len(demo_data["events"][feed])
    assert len({e["uuid"] for e in seen}) == len(seen)
    assert set(seen[0]) == _sample_item_keys(feed)


def test_audit_events_carry_the_documented_fields(events: str, demo_data: dict[str, Any]) -> None:
    _, page = _call(events, "/api/v2/auditevents", demo_data["events_token"], {"limit": 5})
    assert {
        "uuid",
        "timestamp",
        "actor_uuid",
        "actor_details",
        "action",
        "object_type",
        "object_uuid",
        "session",
        "location",
        "account_uuid",
    } <= set(page["items"][0])


def test_start_time_filters_events(events: str, demo_data: dict[str, Any]) -> None:
    start = sorted(e["timestamp"] for e in demo_data["events"]["itemusages"])[-10]
    _, page = _call(events, "/api/v2/itemusages", demo_data["events_token"], {"limit": 1000, "start_time": start})
    assert len(page["items"]) >= 10
    assert all(item["timestamp"] >= start for item in page["items"])


def test_a_cursor_at_the_end_returns_events_added_later(
    events: str, demo_data: dict[str, Any], account_file: Path
) -> None:
    token = demo_data["events_token"]
    _, page = _call(events, "/api/v2/auditevents", token, {"limit": 1000})
    assert not page["has_more"]
    account.add_event(
        account_file,
        "auditevents",
        {
            "uuid": "NEWEVENT",
            "timestamp": "2026-03-31T11:00:00Z",
            "actor_uuid": demo_data["users"][1]["id"],
            "action": "revoke",
            "object_type": "vault",
            "object_uuid": demo_data["vaults"][0]["id"],
            "ip": "203.0.113.9",
        },
    )
    _, later = _call(events, "/api/v2/auditevents", token, {"cursor": page["cursor"]})
    assert [item["uuid"] for item in later["items"]] == ["NEWEVENT"]


def test_a_wrong_token_is_refused(events: str) -> None:
    status, _ = _call(events, "/api/v2/itemusages", "wrong", {"limit": 10})
    assert status == 401
    assert _call(events, "/api/v2/auth/introspect", "wrong")[0] == 401


def test_introspect_lists_the_features(events: str, demo_data: dict[str, Any]) -> None:
    status, body = _call(events, "/api/v2/auth/introspect", demo_data["events_token"])
    assert status == 200
    assert set(body["features"]) == {"itemusages", "signinattempts", "auditevents"}


def test_a_garbled_cursor_is_a_bad_request(events: str, demo_data: dict[str, Any]) -> None:
    status, _ = _call(events, "/api/v2/itemusages", demo_data["events_token"], {"cursor": "not-a-cursor"})
    assert status == 400
