"""A NUL byte in any free-text API parameter is the caller's error (422), never a server error:
PostgreSQL refuses NUL inside a string, so an unchecked parameter reaching a query answers 500."""

from __future__ import annotations

import pytest

from tests.security.planted import bearer_for

pytestmark = [pytest.mark.django_db]

TEXT_PARAMETERS = [
    "/api/v1/items?q=",
    "/api/v1/findings?q=",
    "/api/v1/search?q=",
    "/api/v1/vaults?cursor=",
    "/api/v1/usage?title=",
    "/api/v1/usage?tag=",
    "/api/v1/usage?action=",
    "/api/v1/usage?country=",
    "/api/v1/usage?ip=",
    "/api/v1/usage?classification=",
]


@pytest.mark.parametrize("url", TEXT_PARAMETERS)
def test_a_nul_byte_is_refused_with_422(client, admin_user, url):
    response = client.get(url + "stripe%00prod", headers=bearer_for(admin_user))
    assert response.status_code == 422, response.content[:300]


@pytest.mark.parametrize("url", TEXT_PARAMETERS[:3])
def test_the_same_text_without_the_nul_byte_is_answered(client, admin_user, url):
    # The decoy: the pattern must not refuse ordinary text (spaces, punctuation, non-ASCII).
    response = client.get(url + "stripe%20prod%C3%A9-%3D%2B", headers=bearer_for(admin_user))
    assert response.status_code == 200, response.content[:300]
