"""Transport security as production runs it: the app is started in a subprocess with production
settings (DEBUG=0, no test runner in the process, so HTTPS is on) against this test's database;
it signs a real user in over HTTPS and reports its headers and cookies."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.db import connection
from django.test import Client

from tests.conftest import REPO_ROOT

HOST = "openclaw.example.com"

PROBE = f"""
import json
from django.test import Client
c = Client(HTTP_HOST="{HOST}")
out = {{}}
login = c.get("/accounts/login/", secure=True)
out["login_headers"] = dict(login.headers)
out["csrf_cookie"] = {{k: str(v) for k, v in login.cookies["csrftoken"].items()}}
plain = Client(HTTP_HOST="{HOST}").get("/accounts/login/")
out["plain_http"] = [plain.status_code, plain.get("Location", "")]
signed_in = c.post("/accounts/login/", {{"username": "prod_probe", "password": "correct horse battery staple 9"}}, secure=True)
out["signed_in"] = signed_in.status_code
out["session_cookie"] = {{k: str(v) for k, v in signed_in.cookies["sessionid"].items()}}
out["dashboard_headers"] = dict(c.get("/", secure=True).headers)
out["api_headers"] = dict(c.get("/api/v1/openapi.json", secure=True).headers)
print("PROBE " + json.dumps(out))
"""


@pytest.fixture
def production(transactional_db, make_user, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the production probe shares this test's PostgreSQL database")
    make_user("prod_probe")
    params = connection.settings_dict
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "openclaw_web.settings",
        "DEBUG": "0",
        "SECRET_KEY": "k" * 20 + "Zq8#pL2@vX5!mN7$rT1%yW4^uB6&" + "j" * 20,
        "FINGERPRINT_KEY": "f" * 64,
        "ALLOWED_HOSTS": HOST,
        "DATABASE_URL": f"postgres://{params.get('USER') or 'postgres'}@{params.get('HOST') or '127.0.0.1'}:{params.get('PORT') or 5432}/{params['NAME']}",
        "OPENCLAW_VAR_DIR": str(tmp_path),
        "LOG_LEVEL": "ERROR",
    }
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", PROBE], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    lines = [line for line in result.stdout.splitlines() if line.startswith("PROBE ")]
    assert lines, result.stdout + result.stderr
    return json.loads(lines[-1].removeprefix("PROBE "))


def _csp(headers: dict[str, str]) -> dict[str, list[str]]:
    directives = {}
    for part in headers["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


# One production probe per test costs a Django start-up (~4 s), so each test checks a group.
def test_cookies_are_secure_httponly_and_samesite_and_http_redirects_to_https_in_production(production):
    assert production["signed_in"] == 302
    session = production["session_cookie"]
    assert (session["secure"], session["httponly"], session["samesite"]) == ("True", "True", "Lax")
    csrf = production["csrf_cookie"]
    assert (csrf["secure"], csrf["samesite"]) == ("True", "Lax")
    status, location = production["plain_http"]
    assert status == 301
    assert location.startswith(f"https://{HOST}/")


def test_security_headers_are_set_on_pages_and_api_in_production(production):
    for page in ("login_headers", "dashboard_headers", "api_headers"):
        headers = production[page]
        assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload", page
        assert headers["X-Frame-Options"] == "DENY", page
        assert headers["X-Content-Type-Options"] == "nosniff", page
        assert headers["Referrer-Policy"] == "same-origin", page
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin", page
        csp = _csp(headers)
        assert csp["script-src"] == ["'self'"], page
        assert csp["style-src"] == ["'self'"], page
        assert csp["object-src"] == ["'none'"], page
        assert csp["frame-ancestors"] == ["'none'"], page
        assert "'unsafe-inline'" not in headers["Content-Security-Policy"], page
        assert "'unsafe-eval'" not in headers["Content-Security-Policy"], page


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/accounts/login/", "/api/v1/openapi.json", "/api/v1/vaults"])
def test_security_headers_are_set_on_every_kind_of_response_in_development_too(url):
    response = Client().get(url)

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert _csp(dict(response.headers))["script-src"] == ["'self'"]


@pytest.mark.django_db
def test_the_session_cookie_is_httponly_and_samesite_in_development(make_user):
    make_user("dev_probe")

    response = Client().post("/accounts/login/", {"username": "dev_probe", "password": "correct horse battery staple 9"})

    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
