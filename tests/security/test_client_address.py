"""The client's address behind a reverse proxy (issue #14, item 5): with TRUSTED_PROXY_COUNT=1 the
address the proxy appended to X-Forwarded-For is the client's, for the sign-in lockout and for
the audit log alike; with 0 (the default) X-Forwarded-For is never believed, so a client cannot
pick its address by sending one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from compliance.models import AuditLogEntry
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple 9"
PROXY = "172.18.0.5"  # the TLS proxy's address inside the compose network: REMOTE_ADDR for everyone
IPWARE_SETTINGS = ("AXES_IPWARE_PROXY_ORDER", "AXES_IPWARE_PROXY_COUNT", "AXES_IPWARE_META_PRECEDENCE_ORDER", "IPWARE_STRICT")


def _settings_with(trusted_proxy_count: str | None) -> dict[str, Any]:
    """The address-resolution settings as openclaw_web/settings.py derives them from the
    environment, read in a fresh interpreter (settings are computed once, at import)."""
    env = {k: v for k, v in os.environ.items() if k != "TRUSTED_PROXY_COUNT"}
    if trusted_proxy_count is not None:
        env["TRUSTED_PROXY_COUNT"] = trusted_proxy_count
    code = f"import json; from openclaw_web import settings as s; print(json.dumps({{n: getattr(s, n) for n in {IPWARE_SETTINGS!r}}}))"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def derived() -> dict[str | None, dict[str, Any]]:
    return {count: _settings_with(count) for count in (None, "1")}


@pytest.fixture
def behind_one_proxy(settings, derived):
    for name, value in derived["1"].items():
        setattr(settings, name, tuple(value) if isinstance(value, list) else value)


@pytest.fixture
def direct(settings, derived):
    for name, value in derived[None].items():
        setattr(settings, name, tuple(value) if isinstance(value, list) else value)


def _sign_in(username: str, password: str, *, forwarded_for: str | None = None, remote: str = PROXY) -> int:
    extra: dict[str, Any] = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for is not None else {}
    return Client(REMOTE_ADDR=remote, **extra).post(reverse("login"), {"username": username, "password": password}).status_code


def _last_address(action: str) -> str | None:
    return AuditLogEntry.objects.filter(action=action).order_by("-seq").values_list("ip_address", flat=True).first()


def test_by_default_no_proxy_is_trusted_and_the_header_is_not_even_read(derived):
    assert derived[None]["AXES_IPWARE_META_PRECEDENCE_ORDER"] == ["REMOTE_ADDR"]
    assert derived["1"]["AXES_IPWARE_META_PRECEDENCE_ORDER"] == ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]


def test_docker_compose_trusts_exactly_one_proxy():
    import yaml

    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())

    assert compose["services"]["web"]["environment"]["TRUSTED_PROXY_COUNT"] == "${TRUSTED_PROXY_COUNT:-1}"


def test_behind_the_proxy_the_audit_log_shows_the_real_client(behind_one_proxy, viewer):
    _sign_in(viewer.username, "wrong", forwarded_for="203.0.113.7")
    _sign_in(viewer.username, PASSWORD, forwarded_for="203.0.113.8")

    assert _last_address("auth.login_failed") == "203.0.113.7"
    assert _last_address("auth.login") == "203.0.113.8"


def test_behind_the_proxy_a_forged_header_is_ignored_in_favour_of_what_the_proxy_appended(behind_one_proxy, viewer):
    # The client sent "X-Forwarded-For: 198.51.100.1"; the proxy appended the address it saw.
    _sign_in(viewer.username, "wrong", forwarded_for="198.51.100.1, 203.0.113.7")

    assert _last_address("auth.login_failed") == "203.0.113.7"


def test_behind_the_proxy_a_request_without_the_header_is_logged_with_the_peer_address(behind_one_proxy, viewer):
    _sign_in(viewer.username, "wrong", remote="127.0.0.1")  # the container's own health check

    assert _last_address("auth.login_failed") == "127.0.0.1"


def test_behind_the_proxy_an_attacker_locks_out_only_their_own_address(behind_one_proxy, viewer):
    statuses = [_sign_in(viewer.username, "wrong", forwarded_for="198.51.100.66") for _ in range(6)]

    assert statuses[4:] == [429, 429]
    assert _sign_in(viewer.username, PASSWORD, forwarded_for="198.51.100.66") == 429
    # Everyone reaches Django from the proxy's address; the real user is someone else.
    assert _sign_in(viewer.username, PASSWORD, forwarded_for="203.0.113.10") == 302


def test_behind_the_proxy_a_forged_prefix_does_not_escape_the_lockout(behind_one_proxy, viewer):
    statuses = [_sign_in(viewer.username, "wrong", forwarded_for=f"192.0.2.{n}, 198.51.100.66") for n in range(6)]

    assert statuses[4:] == [429, 429]


def test_without_a_trusted_proxy_a_spoofed_header_is_ignored(direct, viewer):
    _sign_in(viewer.username, "wrong", forwarded_for="203.0.113.9", remote="10.0.0.1")

    assert _last_address("auth.login_failed") == "10.0.0.1"


def test_without_a_trusted_proxy_rotating_the_header_does_not_escape_the_lockout(direct, viewer):
    statuses = [_sign_in(viewer.username, "wrong", forwarded_for=f"203.0.113.{n}", remote="10.0.0.1") for n in range(6)]

    assert statuses[4:] == [429, 429]
    assert _sign_in(viewer.username, PASSWORD, forwarded_for="203.0.113.200", remote="10.0.0.1") == 429


def test_api_calls_are_logged_with_the_same_address(behind_one_proxy):
    Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7").get("/api/v1/vaults")

    assert _last_address("api.call") == "203.0.113.7"
