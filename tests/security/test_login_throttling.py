"""Login throttling (django-axes, through the real sign-in view): five failures for a username
from an address lock that pair out, the right password included, with a readable page."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from compliance.models import AuditLogEntry

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple 9"


def _attempt(username: str, password: str, ip: str = "10.0.0.1") -> object:
    return Client(REMOTE_ADDR=ip).post(reverse("login"), {"username": username, "password": password})


def _fail(username: str, times: int, ip: str = "10.0.0.1") -> list[int]:
    return [_attempt(username, "wrong password", ip).status_code for _ in range(times)]


def test_the_limit_is_five_failures():
    assert settings.AXES_FAILURE_LIMIT == 5


def test_after_five_failures_even_the_right_password_is_refused_with_a_readable_page(viewer):
    assert _fail(viewer.username, 5) == [200, 200, 200, 200, 429]  # the fifth failure locks

    response = _attempt(viewer.username, PASSWORD)

    assert response.status_code in (403, 429)
    body = response.content.decode()
    assert "Too many failed sign-ins" in body
    assert "sessionid" not in response.cookies


def test_four_failures_do_not_lock_and_a_success_resets_the_count(viewer):
    assert _fail(viewer.username, 4) == [200] * 4
    assert _attempt(viewer.username, PASSWORD).status_code == 302

    _fail(viewer.username, 4)
    assert _attempt(viewer.username, PASSWORD).status_code == 302


def test_a_lockout_concerns_that_username_from_that_address_only(viewer, auditor):
    _fail(viewer.username, 5)

    assert _attempt(auditor.username, PASSWORD).status_code == 302
    assert _attempt(viewer.username, PASSWORD, ip="10.0.0.2").status_code == 302


def test_failed_sign_ins_are_audit_logged_without_the_password(viewer):
    _fail(viewer.username, 2)

    entries = AuditLogEntry.objects.filter(action="auth.login_failed")
    assert entries.count() == 2
    assert all("wrong password" not in str(e.details) for e in entries)
