"""The authorization matrix over every API route and every role, generated from the ninja routers:
a new route without a capability fails here, and each role is allowed or refused exactly as the
hand-written table in tests/security/expected_access.py says (not as the route's own declaration)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from openclaw_web.api.api import api
from openclaw_web.api.auth import ApiAuth
from openclaw_web.roles import MATRIX, Capability, Role
from tests.security.expected_access import API_ACCESS
from tests.security.planted import bearer_for, plant

PREFIX = "/api/v1"
PUBLIC = {f"{PREFIX}/openapi.json": "the generated schema: describes routes, holds no data"}


def _operations() -> Iterator[tuple[str, str, object]]:
    for bound in api._get_bound_routers():
        for path, path_view in bound.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    yield method, f"{PREFIX}{bound.prefix}{path}", operation


OPERATIONS = sorted(_operations(), key=lambda o: (o[1], o[0]))
IDS = [f"{m} {p}" for m, p, _ in OPERATIONS]


def _capability(operation: object) -> Capability | None:
    rules = [cb for cb in operation.auth_callbacks if isinstance(cb, ApiAuth)]  # type: ignore[attr-defined]
    return rules[0].route_capability if len(rules) == 1 and len(operation.auth_callbacks) == 1 else None  # type: ignore[attr-defined]


def test_the_walk_finds_the_api():
    assert len(OPERATIONS) >= 18
    assert {m for m, _, _ in OPERATIONS} == {"GET"}, "the API is read-only"


def test_every_api_route_declares_exactly_one_capability():
    missing = [f"{m} {p}" for m, p, op in OPERATIONS if _capability(op) is None]
    assert missing == [], f"API routes without an authorization rule: {missing}"


def test_every_api_route_has_a_line_in_the_expected_access_table():
    paths = {p for _, p, _ in OPERATIONS}

    assert sorted(paths - API_ACCESS.keys()) == [], "new API routes: add who may call them to expected_access.py"
    assert sorted(API_ACCESS.keys() - paths) == [], "expected_access.py lists API routes that no longer exist"


def test_the_only_public_api_urls_are_the_listed_ones():
    from django.urls import get_resolver

    api_patterns = [p for p in get_resolver().url_patterns if getattr(p, "namespace", None) == "api"]
    assert len(api_patterns) == 1
    routes = {re.sub(r"<[^>]+>", "{}", f"{PREFIX}/{p.pattern}") for p in api_patterns[0].url_patterns}
    described = {re.sub(r"\{\w+\}", "{}", p) for _, p, _ in OPERATIONS}
    assert routes - described - {f"{PREFIX}/"} == set(PUBLIC), "an API URL outside the routers (and not public)"


@pytest.fixture
def planted(admin_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return plant(titles=["Stripe Production API Key"], opened_by=admin_user)


def _offboarding_case_id(planted) -> int:
    """A leaver's case in the planted account (issue 16), so /api/v1/offboarding/{case_id} has one to show."""
    from vaults.models import OpUser
    from vaults.offboarding.cases import open_case

    person, _ = OpUser.objects.get_or_create(account=planted.account, op_id="LEAVERPLANTED0000000000001",
                                             defaults={"name": "Leaver", "email": "leaver@example.com", "state": "SUSPENDED"})
    return open_case(person, leave_date=person.account.created_at.date(), reason="became_inactive").pk


def _url(path: str, planted) -> str:
    ids = {"account_id": planted.account.pk, "run_id": planted.runs[0].pk, "vault_id": planted.vault.pk,
           "item_id": planted.items[0].pk, "finding_id": planted.findings[0].pk, "review_id": planted.review.pk,
           "report_id": planted.artifact.pk, "case_id": _offboarding_case_id(planted)}  # fmt: skip
    return re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=IDS)
def test_anonymous_callers_get_a_401(method, path, operation, planted):
    response = Client().generic(method, _url(path, planted))

    assert response.status_code == 401
    assert "Stripe" not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role), ids=[r.name for r in Role])
@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=IDS)
def test_each_role_is_allowed_or_refused_exactly_as_the_table_says(role, method, path, operation, planted):
    user = User.objects.create_user(username=f"api-{role.name}")
    user.groups.add(Group.objects.get_or_create(name=role.value)[0])
    allowed = role in API_ACCESS.get(path, frozenset())

    by_token = Client(headers=bearer_for(user)).generic(method, _url(path, planted))
    session = Client()
    session.force_login(user)
    by_session = session.generic(method, _url(path, planted))

    for response in (by_token, by_session):
        if allowed:
            assert response.status_code == 200, f"{role} should reach {path}: {response.content[:200]!r}"
        else:
            assert response.status_code == 403, f"{role} must be refused {path}"
            assert "Stripe" not in response.content.decode()


@pytest.mark.django_db
def test_a_role_without_use_api_is_refused_everything(monkeypatch, planted):
    monkeypatch.setitem(MATRIX, Capability.USE_API, frozenset({Role.ADMIN}))
    user = User.objects.create_user(username="no-api")
    user.groups.add(Group.objects.get_or_create(name=Role.AUDITOR.value)[0])

    response = Client(headers=bearer_for(user)).get(f"{PREFIX}/vaults")

    assert response.status_code == 403
    assert "use api" in response.json()["detail"]
