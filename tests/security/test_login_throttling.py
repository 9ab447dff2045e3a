"""Login throttling (django-axes, through the real sign-in view): five failures for a username
from an address lock that pair out, the right password included, with a readable page; the
lock never reaches the same person at another address, and it lasts longer each time the same
pair comes back. Login names that match no account are stored only as keyed hashes."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from axes.models import AccessAttempt, AccessAttemptExpiration, AccessFailureLog
from django.conf import settings
from django.db import connection
from django.db.models import F
from django.test import Client

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse  # the test client's response type
from django.urls import reverse

from compliance.models import AuditLogEntry

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple 9"


def _attempt(username: str, password: str, ip: str = "10.0.0.1") -> TestResponse:
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


# --- lockout as a weapon (issue #14, item 5) --------------------------------------------------


def _age_sign_in_records(minutes: int) -> None:
    """Move every stored attempt, expiry and failure `minutes` into the past, as if that much
    time had gone by (axes compares them with the clock)."""
    delta = timedelta(minutes=minutes)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - delta)
    AccessAttemptExpiration.objects.update(expires_at=F("expires_at") - delta)
    AccessFailureLog.objects.update(attempt_time=F("attempt_time") - delta)


def test_an_attacker_failing_ten_times_from_one_address_does_not_lock_the_user_out_elsewhere(viewer):
    attacker, home = "198.51.100.66", "203.0.113.10"

    statuses = _fail(viewer.username, 10, ip=attacker)

    assert statuses[4:] == [429] * 6  # the attacker's address is locked from the fifth failure on
    assert _attempt(viewer.username, PASSWORD, ip=attacker).status_code == 429
    assert _attempt(viewer.username, PASSWORD, ip=home).status_code == 302


def test_a_first_lockout_lasts_the_base_cool_off_of_fifteen_minutes(viewer):
    _fail(viewer.username, 5)

    _age_sign_in_records(minutes=14)
    assert _attempt(viewer.username, PASSWORD).status_code == 429
    _age_sign_in_records(minutes=2)
    assert _attempt(viewer.username, PASSWORD).status_code == 302


def test_the_cool_off_doubles_when_the_same_pair_is_locked_out_again(viewer):
    _fail(viewer.username, 5)
    _age_sign_in_records(minutes=16)  # the first lockout is over

    assert _fail(viewer.username, 5) == [200, 200, 200, 200, 429]  # locked again

    _age_sign_in_records(minutes=16)
    assert _attempt(viewer.username, PASSWORD).status_code == 429  # 30 minutes this time
    _age_sign_in_records(minutes=15)
    assert _attempt(viewer.username, PASSWORD).status_code == 302


def test_a_repeated_lockout_of_one_pair_does_not_lengthen_another_pairs(viewer, auditor):
    _fail(viewer.username, 5)
    _age_sign_in_records(minutes=16)
    _fail(viewer.username, 5)  # viewer's pair is now on a 30-minute cool-off
    _fail(auditor.username, 5, ip="10.0.0.9")

    _age_sign_in_records(minutes=16)

    assert _attempt(auditor.username, PASSWORD, ip="10.0.0.9").status_code == 302
    assert _attempt(viewer.username, PASSWORD).status_code == 429


# --- what a failed sign-in stores (issue #14, item 6) -----------------------------------------

PASSWORD_LIKE = "Tr0ub4dor&3-typed-in-the-wrong-field"


def _pg_dump() -> str:
    params = connection.settings_dict
    return subprocess.run(
        ["pg_dump", "-h", params.get("HOST") or "127.0.0.1", "-U", params.get("USER") or "postgres", params["NAME"]],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_a_password_typed_as_the_login_name_is_stored_nowhere_in_the_database(viewer):
    if connection.vendor != "postgresql":
        pytest.skip("the database dump needs PostgreSQL")
    _fail(PASSWORD_LIKE, 6)  # audit log, axes' attempts and failure log, and a lockout

    dump = _pg_dump()

    assert PASSWORD_LIKE not in dump
    assert "Tr0ub4dor" not in dump
    assert "unknown:" in dump  # what it is stored as instead: a keyed hash
    assert AccessAttempt.objects.get().username.startswith("unknown:")


def test_a_known_login_name_stays_readable_in_the_audit_log_and_in_axes(viewer):
    _fail(viewer.username, 1)

    entry = AuditLogEntry.objects.get(action="auth.login_failed")

    assert entry.actor_label == f"anonymous ({viewer.username})"
    assert entry.details["username"] == viewer.username
    assert AccessAttempt.objects.get().username == viewer.username


def test_the_same_unknown_login_name_always_maps_to_the_same_hash_so_it_still_locks_out():
    assert _fail(PASSWORD_LIKE, 5) == [200, 200, 200, 200, 429]

    names = set(AuditLogEntry.objects.filter(action="auth.login_failed").values_list("details__username", flat=True))

    assert len(names) == 1
    (name,) = names
    assert name.startswith("unknown:") and len(name) == len("unknown:") + 64
    assert _attempt("someone-else-entirely", "x").status_code == 200  # a different name: its own counter
