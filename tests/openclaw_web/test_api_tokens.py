"""API tokens: created and revoked on the profile page, stored as a hash, shown once."""

from __future__ import annotations

import datetime
import hashlib
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from compliance.models import AuditLogEntry
from openclaw_web import tokens
from openclaw_web.models import ApiToken

pytestmark = pytest.mark.django_db

TOKEN_RE = re.compile(r"oc_[a-z2-7]{8}_[A-Za-z0-9_\-]{40,}")


def _create(client: Client, name: str = "SIEM export") -> str:
    response = client.post(reverse("api_token_create"), {"name": name})
    assert response.status_code == 200
    found = TOKEN_RE.findall(response.content.decode())
    assert len(found) == 1
    return found[0]


def test_a_token_is_shown_once_and_only_its_hash_is_stored(client_for, viewer):
    client = client_for(viewer)

    clear = _create(client)

    token = ApiToken.objects.get(user=viewer)
    assert token.token_hash == hashlib.sha256(clear.encode()).hexdigest()
    assert clear not in {token.name, token.prefix, token.token_hash}
    assert clear.startswith(f"oc_{token.prefix}_")
    assert clear not in client.get(reverse("profile")).content.decode()
    assert token.prefix in client.get(reverse("profile")).content.decode()


def test_the_page_showing_a_new_token_is_never_cached(client_for, viewer):
    response = client_for(viewer).post(reverse("api_token_create"), {"name": "ci"})

    assert "no-store" in response["Cache-Control"]


def test_creating_a_token_is_audit_logged_without_the_token(client_for, viewer):
    clear = _create(client_for(viewer))

    entry = AuditLogEntry.objects.get(action="api_token.created")
    assert entry.actor_id == viewer.pk
    assert entry.details["name"] == "SIEM export"
    assert clear not in str(entry.details) and clear not in entry.target_label


def test_the_token_works_until_it_is_revoked(client_for, viewer):
    client = client_for(viewer)
    clear = _create(client)
    api = Client(headers={"Authorization": f"Bearer {clear}"})
    assert api.get("/api/v1/vaults").status_code == 200
    token = ApiToken.objects.get(user=viewer)
    assert token.last_used_at is not None

    response = client.post(reverse("api_token_revoke", args=[token.pk]))

    assert response.status_code == 302
    assert api.get("/api/v1/vaults").status_code == 401
    assert AuditLogEntry.objects.filter(action="api_token.revoked", actor=viewer).count() == 1


def test_revoking_twice_records_one_revocation(client_for, viewer):
    client = client_for(viewer)
    _create(client)
    token = ApiToken.objects.get(user=viewer)

    client.post(reverse("api_token_revoke", args=[token.pk]))
    client.post(reverse("api_token_revoke", args=[token.pk]))

    assert AuditLogEntry.objects.filter(action="api_token.revoked").count() == 1


def test_nobody_can_revoke_someone_elses_token(client_for, viewer, admin_user):
    token, _ = tokens.create_token(user=viewer, name="mine")

    response = client_for(admin_user).post(reverse("api_token_revoke", args=[token.pk]))

    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_deactivated_users_tokens_stop_working(viewer):
    _, clear = tokens.create_token(user=viewer, name="x")
    viewer.is_active = False
    viewer.save()

    assert Client().get("/api/v1/vaults", headers={"Authorization": f"Bearer {clear}"}).status_code == 401


def test_a_token_acts_with_its_owners_current_roles(auditor, viewer):
    _, viewer_token = tokens.create_token(user=viewer, name="x")
    _, auditor_token = tokens.create_token(user=auditor, name="x")

    assert Client().get("/api/v1/reports", headers={"Authorization": f"Bearer {viewer_token}"}).status_code == 403
    assert Client().get("/api/v1/reports", headers={"Authorization": f"Bearer {auditor_token}"}).status_code == 200


@pytest.mark.parametrize("value", ["", "oc_", "oc__x", "oc_abcdefgh_", "xx_abcdefgh_secret", "oc_ab\x00cd_x", "oc_" + "a" * 40 + "_x"])
def test_malformed_tokens_are_simply_unknown(viewer, value):
    tokens.create_token(user=viewer, name="x")

    assert tokens.token_for(value) is None


def test_a_token_with_the_right_prefix_but_wrong_secret_is_refused(viewer):
    token, clear = tokens.create_token(user=viewer, name="x")

    assert tokens.token_for(clear[:-1] + ("A" if clear[-1] != "A" else "B")) is None
    assert tokens.token_for(clear) == token


def test_an_empty_name_is_a_form_error(client_for, viewer):
    response = client_for(viewer).post(reverse("api_token_create"), {"name": ""})

    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_active_tokens_per_person_are_capped(client_for, viewer):
    for n in range(tokens.MAX_ACTIVE_TOKENS_PER_USER):
        ApiToken.objects.create(user=viewer, name=str(n), prefix=f"p{n:07d}", token_hash="0" * 64)

    response = client_for(viewer).post(reverse("api_token_create"), {"name": "one more"}, follow=True)

    assert "revoke one first" in response.content.decode()
    assert ApiToken.objects.filter(user=viewer).count() == tokens.MAX_ACTIVE_TOKENS_PER_USER


def test_last_used_is_written_at_most_once_a_minute(viewer):
    token, clear = tokens.create_token(user=viewer, name="x")
    earlier = timezone.now() - datetime.timedelta(seconds=10)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=earlier)

    tokens.token_for(clear)

    token.refresh_from_db()
    assert token.last_used_at == earlier
