"""Anonymous and failed-token API calls (issue #14, item 6): throttled per client address, and
audit-logged in bounded number with no query values (openclaw_web/api/refused_calls.py)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from compliance.models import AuditLogEntry
from tests.security.planted import bearer_for

pytestmark = pytest.mark.django_db

BUDGET = 10  # API_REFUSED_CALL_RATE's default, 10 a minute
SECRET_IN_QUERY = "sk_live_51HPasted1nt0AUrl"
# 600 characters of query, as in the issue, carrying a value that must never be stored.
LONG_QUERY = f"token={SECRET_IN_QUERY}&" + "&".join(f"p{n}=x{'y' * 20}" for n in range(24))


def _calls(client: Client, count: int, **headers: str) -> list[int]:
    return [client.get(f"/api/v1/vaults?{LONG_QUERY}", headers=headers).status_code for _ in range(count)]


def test_the_budget_is_ten_refused_calls_a_minute():
    assert settings.API_REFUSED_CALL_RATE == "10/min" and BUDGET == 10
    assert len(LONG_QUERY) >= 600


def test_fifty_anonymous_calls_are_throttled_and_leave_a_bounded_number_of_entries():
    before = AuditLogEntry.objects.count()

    statuses = _calls(Client(REMOTE_ADDR="198.51.100.66"), 50)

    assert statuses == [401] * BUDGET + [429] * (50 - BUDGET)
    entries = list(AuditLogEntry.objects.order_by("seq")[before:])
    assert len(entries) == BUDGET + 1
    assert [e.action for e in entries] == ["api.call"] * BUDGET + ["api.throttled"]
    assert all(e.ip_address == "198.51.100.66" for e in entries)


def test_refused_calls_are_logged_with_parameter_names_only():
    _calls(Client(REMOTE_ADDR="198.51.100.66"), 50)

    for entry in AuditLogEntry.objects.filter(action__startswith="api."):
        stored = str(entry.details) + entry.target_label + entry.actor_label
        assert SECRET_IN_QUERY not in stored
        assert LONG_QUERY[:60] not in stored
        assert all(len(str(value)) <= 200 for value in entry.details.values())
    first = AuditLogEntry.objects.filter(action="api.call").first()
    assert first is not None
    assert first.details["query_names"].startswith("p0,p1,p10,")
    assert "token" in first.details["query_names"]
    assert first.details["status"] == 401 and first.details["via"] == "none"


def test_a_throttled_call_says_when_to_come_back():
    client = Client(REMOTE_ADDR="198.51.100.66")
    _calls(client, BUDGET)

    response = client.get("/api/v1/vaults")

    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "Too many refused calls" in response.json()["detail"]


def test_wrong_tokens_count_against_the_same_budget_and_are_never_logged():
    statuses = _calls(Client(REMOTE_ADDR="198.51.100.66"), 15, Authorization="Bearer oc_guess_0123456789abcdef")

    assert statuses == [401] * BUDGET + [429] * 5
    entries = AuditLogEntry.objects.filter(action="api.call")
    assert {e.details["via"] for e in entries} == {"invalid credentials"}
    assert "oc_guess" not in str(list(AuditLogEntry.objects.values_list("details", flat=True)))


def test_another_address_has_its_own_budget():
    _calls(Client(REMOTE_ADDR="198.51.100.66"), BUDGET + 1)

    assert Client(REMOTE_ADDR="203.0.113.10").get("/api/v1/vaults").status_code == 401


def test_a_valid_token_from_a_throttled_address_still_works_and_is_logged_in_full(viewer):
    client = Client(REMOTE_ADDR="198.51.100.66")
    _calls(client, BUDGET + 5)

    response = client.get("/api/v1/vaults?limit=5", headers=bearer_for(viewer))

    assert response.status_code == 200
    entry = AuditLogEntry.objects.order_by("-seq").first()
    assert entry is not None and entry.action == "api.call" and entry.details["query"] == "limit=5"


def test_the_next_throttled_window_reports_how_many_calls_the_previous_one_absorbed():
    from django.core.cache import cache

    client = Client(REMOTE_ADDR="198.51.100.66")
    _calls(client, BUDGET + 7)  # 7 throttled calls
    # The window and the budget run out (as a minute passing would do); the count is kept.
    cache.delete_many(["throttle_api_refused_198.51.100.66", "api_refused_window_198.51.100.66"])

    _calls(client, BUDGET + 1)

    throttled = list(AuditLogEntry.objects.filter(action="api.throttled").order_by("seq"))
    assert [e.details["throttled_calls_before_this_window"] for e in throttled] == [0, 7]
