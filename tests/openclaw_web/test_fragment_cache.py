"""Rendered fragments are reused only while the database has not changed (fragment_cache.py).

These run outside a test transaction (transactional_db), as production requests do: inside one,
fragments are never cached, which the last test checks.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator

import pytest
import redis
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from openclaw_web.fragment_cache import database_state
from tests.conftest import TEST_CACHE_REDIS_URL
from tests.vaults.factories import make_account, make_item, make_vault
from vaults.findings.engine import compute_findings
from vaults.findings.models import Finding
from vaults.models import Vault

LIST = reverse("findings:list")
# A database of its own on the test Redis: the Celery fixtures flush theirs.
CACHE_URL = TEST_CACHE_REDIS_URL


@pytest.fixture(autouse=True)
def redis_cache(settings) -> Iterator[redis.Redis]:
    """The production backend (Redis), emptied around each test."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
    client = redis.Redis.from_url(CACHE_URL)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def organisation(transactional_db):
    account = make_account(name="acme")
    vault = make_vault(account=account, name="Payments Production", classification=Vault.Classification.PRODUCTION)
    for n in range(3):
        make_item(vault=vault, title=f"Password {n}")
    compute_findings(account=account, now=timezone.now())
    return account, vault


def _finding_queries(client, path: str) -> tuple[bytes, int]:
    """The findings table (htmx's request for it) and how many queries read findings for it."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.content, sum('"findings_finding"' in q["sql"] for q in captured.captured_queries)


def test_a_page_is_rendered_once_while_nothing_changes(client_for, viewer, organisation) -> None:
    client = client_for(viewer)
    path = LIST + "?kind=unclear_name"

    first, first_queries = _finding_queries(client, path)
    again, again_queries = _finding_queries(client, path)

    assert first_queries >= 1 and again_queries == 0
    assert again == first and b"Unclear name: Password 0" in again


def test_accepting_a_risk_shows_on_the_very_next_request(client_for, team_lead, organisation) -> None:
    client = client_for(team_lead)
    path = LIST + "?kind=unclear_name"  # open findings, the list's default
    finding = Finding.objects.filter(kind=Finding.Kind.UNCLEAR_NAME).order_by("pk").first()
    link = reverse("findings:detail", args=[finding.pk]).encode()
    assert link in client.get(path).content

    response = client.post(
        reverse("findings:accept"),
        {"ids": [finding.pk], "reason": "A test vault, retired next week.",
         "until": (timezone.now() + datetime.timedelta(days=7)).date(), "next": path},
    )  # fmt: skip

    assert response.status_code == 302
    assert link not in client.get(path).content
    assert link in client.get(path + "&status=accepted").content


def _open_unclear_on_dashboard(client) -> int:
    body = client.get(reverse("dashboard")).content.decode()
    match = re.search(r'\?kind=unclear_name">Unclear name</a></td>\s*<td class="num"><strong>(\d+)</strong>', body)
    assert match, "the dashboard lists open findings per kind"
    return int(match.group(1))


def test_a_findings_run_shows_on_the_dashboard_and_the_vault_at_once(client_for, viewer, organisation) -> None:
    account, vault = organisation
    client = client_for(viewer)
    vault_page = reverse("vaults:detail", args=[vault.pk])
    assert _open_unclear_on_dashboard(client) == 3 and b"Untitled" not in client.get(vault_page).content
    make_item(vault=vault, title="Untitled")

    compute_findings(account=account, now=timezone.now())

    assert _open_unclear_on_dashboard(client) == 4
    assert b"Untitled" in client.get(vault_page).content


def test_people_with_other_roles_get_their_own_fragment(client_for, viewer, team_lead, organisation) -> None:
    path = LIST + "?kind=unclear_name"
    assert b'name="ids"' not in client_for(viewer).get(path).content

    # Same page, same database state, but a team lead may select findings to accept their risk.
    assert b'name="ids"' in client_for(team_lead).get(path).content


def test_no_fragment_holds_a_csrf_token_or_a_name(client_for, admin_user, organisation, redis_cache) -> None:
    _, vault = organisation
    client = client_for(admin_user)
    for path in (reverse("dashboard"), LIST, reverse("vaults:detail", args=[vault.pk])):
        page = client.get(path).content.decode()
        assert "csrfmiddlewaretoken" in page  # the page has forms; their tokens are outside fragments

    stored = [cache.get(key.decode().split(":", 2)[-1]) for key in redis_cache.keys("*fragment:*")]

    assert len(stored) >= 5  # dashboard, findings filters + table, vault summary + contents
    assert all("csrfmiddlewaretoken" not in html and admin_user.get_username() not in html for html in stored)


def test_pages_still_answer_when_the_cache_does_not(client_for, viewer, organisation, settings, caplog) -> None:
    _, vault = organisation
    # Nothing listens on port 1: every cache call fails at once.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
    client = client_for(viewer)

    for path in (reverse("dashboard"), LIST, reverse("vaults:detail", args=[vault.pk])):
        response = client.get(path)
        assert response.status_code == 200 and b"Payments Production" in response.content

    assert "fragment cache unavailable" in caplog.text


def test_fragments_are_never_cached_inside_a_transaction(transactional_db) -> None:
    assert database_state() is not None
    with transaction.atomic():
        assert database_state() is None
