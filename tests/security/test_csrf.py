"""CSRF: every state-changing request needs the token, htmx requests included.

Every route of the URL conf is POSTed to without a token and must be refused by the CSRF check
(not merely by a role check); htmx sends the token from `hx-headers` on <body>, so base.html
must render it there and a POST carrying only that header must pass the check."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from openclaw_web.models import ApiToken
from tests.security.routes import ROUTES

pytestmark = pytest.mark.django_db

CSRF_FAILURE = "CSRF verification failed"


def _csrf_client(user=None) -> Client:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    return client


def _hx_token(client: Client) -> str:
    page = client.get(reverse("dashboard")).content.decode()
    match = re.search(r"<body hx-headers='([^']+)'", page)
    assert match, "base.html must put hx-headers on <body>"
    return json.loads(match.group(1))["X-CSRFToken"]


PAGE_ROUTES = [r for r in ROUTES if not r[0].startswith("api:")]
API_ROUTES = [r for r in ROUTES if r[0].startswith("api:")]


@pytest.mark.parametrize(("name", "pattern", "kwargs"), PAGE_ROUTES, ids=[r[0] for r in PAGE_ROUTES])
def test_a_post_without_the_token_is_refused_on_every_page_route(name, pattern, kwargs, admin_user):
    response = _csrf_client(admin_user).post(reverse(name, kwargs=kwargs), {"name": "x"})

    assert response.status_code == 403
    assert CSRF_FAILURE in response.content.decode(), f"{name} answered a token-less POST without the CSRF check"


@pytest.mark.parametrize(("name", "pattern", "kwargs"), PAGE_ROUTES, ids=[r[0] for r in PAGE_ROUTES])
def test_an_htmx_post_with_the_body_header_token_passes_the_check_on_every_page_route(name, pattern, kwargs, admin_user):
    client = _csrf_client(admin_user)
    token = _hx_token(client)

    response = client.post(reverse(name, kwargs=kwargs), {}, headers={"HX-Request": "true", "X-CSRFToken": token})

    assert CSRF_FAILURE not in response.content.decode()


def test_a_wrong_token_in_the_htmx_header_is_refused(admin_user):
    client = _csrf_client(admin_user)
    _hx_token(client)

    response = client.post(reverse("api_token_create"), {"name": "x"}, headers={"HX-Request": "true", "X-CSRFToken": "x" * 64})

    assert response.status_code == 403
    assert not ApiToken.objects.exists()


def test_the_htmx_header_token_really_performs_the_action(viewer):
    client = _csrf_client(viewer)
    token = _hx_token(client)

    response = client.post(reverse("api_token_create"), {"name": "via htmx"}, headers={"HX-Request": "true", "X-CSRFToken": token})

    assert response.status_code == 200
    assert ApiToken.objects.filter(user=viewer, name="via htmx").exists()


def test_signing_in_needs_the_token_too(viewer):
    response = _csrf_client().post(reverse("login"), {"username": viewer.username, "password": "correct horse battery staple 9"})

    assert response.status_code == 403


@pytest.mark.parametrize(("name", "pattern", "kwargs"), API_ROUTES, ids=[r[0] for r in API_ROUTES])
def test_the_api_accepts_no_state_changing_method(name, pattern, kwargs, admin_user):
    client = _csrf_client(admin_user)
    url = reverse(name, kwargs={k: 1 for k in kwargs})

    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert client.generic(method, url).status_code in (403, 404, 405), f"{method} {url}"
