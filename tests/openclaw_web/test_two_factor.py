"""Optional TOTP two-factor authentication, which the policy can require for approvers and admins.

Codes are computed like an authenticator app would: from the key the setup page shows."""

from __future__ import annotations

import base64
import re
import time

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from compliance.models import AuditLogEntry
from openclaw_web import tokens
from vaults.findings.models import Policy

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple 9"  # tests/conftest.py make_user


def code_for(key_b32: str, *, steps_ahead: int = 0) -> str:
    totp = TOTP(base64.b32decode(key_b32), step=30, t0=0, digits=6)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def sign_in(user) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return client


def key_on_page(page: str) -> str:
    return re.search(r'value="([A-Z2-7]{16,})" class="mono" aria-label="TOTP key"', page).group(1)


def set_up_two_factor(client: Client, *, password: str | None = PASSWORD) -> str:
    """The profile flow: start setup (a first device asks for the password again; a replacement
    sends none), read the key off the page, confirm with a code."""
    response = client.post(reverse("two_factor_setup"), {"password": password} if password else {})
    assert response.status_code == 200, response.content.decode()[:2000]
    page = response.content.decode()
    key_b32 = key_on_page(page)
    assert f"secret={key_b32}" in page  # the otpauth setup link carries the same key
    response = client.post(reverse("two_factor_confirm"), {"code": code_for(key_b32)})
    assert response.status_code == 302, response.content.decode()[:2000]
    return key_b32


def require_2fa() -> None:
    policy = Policy.global_policy()
    policy.require_2fa_for_approvers = True
    policy.save()


def test_anyone_can_turn_on_two_factor_from_the_profile(viewer):
    client = sign_in(viewer)

    set_up_two_factor(client)

    assert TOTPDevice.objects.get(user=viewer).confirmed
    assert "On" in client.get(reverse("profile")).content.decode()
    assert AuditLogEntry.objects.filter(action="auth.2fa_enabled", actor=viewer).exists()


def test_a_wrong_confirmation_code_leaves_two_factor_off(viewer):
    client = sign_in(viewer)
    client.post(reverse("two_factor_setup"), {"password": PASSWORD})

    response = client.post(reverse("two_factor_confirm"), {"code": "000000"})

    assert response.status_code == 400
    assert not TOTPDevice.objects.filter(user=viewer, confirmed=True).exists()


def test_without_the_policy_approvers_are_not_asked_for_a_code(approver):
    client = sign_in(approver)

    assert client.get(reverse("dashboard")).status_code == 200


def test_the_policy_sends_an_approver_without_a_device_to_set_one_up(approver):
    require_2fa()
    client = sign_in(approver)

    response = client.get(reverse("findings:list"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two_factor_setup"))
    assert "next=%2Ffindings%2F" in response["Location"]


@pytest.mark.parametrize("role_fixture", ["approver", "admin_user"])
def test_the_policy_sends_approvers_and_admins_to_the_verify_step_until_they_enter_a_code(request, role_fixture):
    user = request.getfixturevalue(role_fixture)
    key = set_up_two_factor(sign_in(user))
    require_2fa()
    client = sign_in(user)

    response = client.get(reverse("cleanup:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two_factor_verify"))

    wrong = client.post(reverse("two_factor_verify"), {"code": "123456", "next": "/cleanup/"})
    assert wrong.status_code == 400
    assert client.get(reverse("cleanup:list")).status_code == 302

    time.sleep(1.1)  # django-otp throttles after a wrong code: 1 s after the first failure
    right = client.post(reverse("two_factor_verify"), {"code": code_for(key, steps_ahead=1), "next": "/cleanup/"})
    assert right.status_code == 302 and right["Location"] == "/cleanup/"
    assert client.get(reverse("cleanup:list")).status_code == 200
    assert AuditLogEntry.objects.filter(action="auth.2fa_failed", actor=user).count() == 1
    assert AuditLogEntry.objects.filter(action="auth.2fa_verified", actor=user).count() == 1


def test_the_policy_does_not_concern_other_roles(team_lead, viewer):
    require_2fa()

    assert sign_in(team_lead).get(reverse("dashboard")).status_code == 200
    assert sign_in(viewer).get(reverse("dashboard")).status_code == 200


def test_an_unverified_session_cannot_use_the_api(approver):
    require_2fa()
    client = sign_in(approver)

    response = client.get("/api/v1/vaults")

    assert response.status_code == 403
    assert "Two-factor" in response.json()["detail"]


def test_the_verify_step_does_not_redirect_off_site(approver):
    key = set_up_two_factor(sign_in(approver))
    require_2fa()
    client = sign_in(approver)

    response = client.post(reverse("two_factor_verify"), {"code": code_for(key, steps_ahead=1), "next": "https://evil.example/"})

    assert response["Location"] == reverse("dashboard")


def test_a_code_cannot_be_replayed(approver):
    key = set_up_two_factor(sign_in(approver))
    require_2fa()
    code = code_for(key, steps_ahead=1)
    assert sign_in(approver).post(reverse("two_factor_verify"), {"code": code}).status_code == 302

    assert sign_in(approver).post(reverse("two_factor_verify"), {"code": code}).status_code == 400


def test_a_bearer_token_made_behind_the_gate_keeps_working(approver):
    require_2fa()
    _, clear = tokens.create_token(user=approver, name="ci")

    assert Client().get("/api/v1/vaults", headers={"Authorization": f"Bearer {clear}"}).status_code == 200


def test_turning_two_factor_off_needs_a_current_code(viewer):
    client = sign_in(viewer)
    key = set_up_two_factor(client)

    client.post(reverse("two_factor_disable"), {"code": "000000"})
    assert TOTPDevice.objects.filter(user=viewer).exists()
    time.sleep(1.1)  # the throttle after one wrong code

    client.post(reverse("two_factor_disable"), {"code": code_for(key, steps_ahead=1)})
    assert not TOTPDevice.objects.filter(user=viewer).exists()
    assert AuditLogEntry.objects.filter(action="auth.2fa_disabled", actor=viewer).exists()


def test_repeated_wrong_codes_throttle_even_the_right_one(approver):
    key = set_up_two_factor(sign_in(approver))
    require_2fa()
    client = sign_in(approver)
    for _ in range(3):
        client.post(reverse("two_factor_verify"), {"code": "000000"})

    response = client.post(reverse("two_factor_verify"), {"code": code_for(key, steps_ahead=1)})

    assert response.status_code == 400
