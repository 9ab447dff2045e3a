"""Issue #14 item 3, end to end: an item URL holding a password, a token and an OAuth fragment
token is planted in the fake organisation, synced through the real fake `op` subprocess, and
none of the three canaries may be in any database row, on any role's pages, or in any API
response; the URL's host and path still show."""

from __future__ import annotations

import subprocess

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from openclaw_web.roles import Role
from tests.security.hostile_org import sync_account
from tests.security.planted import bearer_for
from tests.security.test_no_secret_leaves_exports import LISTS, _walk
from vaults.fake_op import account as fake_account
from vaults.models import Item, SyncRun

# transaction=True: the rows are committed, so pg_dump (another connection) sees them.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

MARKER = "URLCANARY"
PASSWORD, TOKEN, FRAGMENT_TOKEN = f"{MARKER}pw7", f"{MARKER}tok8", f"{MARKER}frag9"
LEAKY_URLS = [
    f"https://dbadmin:{PASSWORD}@db.canary-host.example.com:8443/console/login?token={TOKEN}&ref=docs",
    f"https://app.canary-host.example.com/oauth/cb#access_token={FRAGMENT_TOKEN}&expires_in=3600",
]
# What must still be shown: host, port, path and the harmless parameters.
KEPT = ["https://db.canary-host.example.com:8443/console/login?token=REDACTED&amp;ref=docs",
        "https://app.canary-host.example.com/oauth/cb#access_token=REDACTED&amp;expires_in=3600"]  # fmt: skip


def _plant_leaky_urls(path) -> str:
    """Give one active LOGIN item the leaky URLs; returns its op id."""
    data = fake_account.load(path)
    item = next(i for i in data["items"] if i.get("state", "ACTIVE") == "ACTIVE" and i["category"] == "LOGIN")
    item["urls"] = [{"label": "console", "primary": True, "href": LEAKY_URLS[0]},
                    {"label": "sso", "primary": False, "href": LEAKY_URLS[1]}]  # fmt: skip
    fake_account.save(path, data)
    return item["id"]


def _pg_dump() -> str:
    params = connection.settings_dict
    return subprocess.run(
        ["pg_dump", "-h", params.get("HOST") or "127.0.0.1", "-U", params.get("USER") or "postgres", params["NAME"]],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip


def test_credentials_in_item_urls_reach_no_row_no_page_and_no_api_response(fake_org, make_user, caplog):
    if connection.vendor != "postgresql":
        pytest.skip("the database dump needs PostgreSQL")
    op_id = _plant_leaky_urls(fake_org.path)
    assert MARKER in fake_org.path.read_text()  # the canaries really are in what op prints
    account = fake_org.add_account()

    run = sync_account(account)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    item = Item.objects.get(op_id=op_id)
    assert [u["href"] for u in item.urls] == [k.replace("&amp;", "&") for k in KEPT]
    dump = _pg_dump()
    assert "db.canary-host.example.com:8443/console/login" in dump  # the dump holds the synced URL...
    assert MARKER not in dump  # ...and none of its credentials
    assert MARKER not in caplog.text

    roles_shown = []
    for role in Role:
        person = make_user(f"url_{role.name.lower()}", role)
        page = Client()
        page.force_login(person)
        response = page.get(reverse("vaults:item", args=[item.pk]))
        if response.status_code != 200:
            continue  # a role that may not see items at all leaks nothing either
        roles_shown.append(role)
        html = response.content.decode()
        assert MARKER not in html, role
        assert all(kept in html for kept in KEPT), role
        for url in (reverse("vaults:list"), reverse("vaults:detail", args=[item.vault_id]), reverse("findings:list")):
            assert MARKER not in page.get(url).content.decode(), (role, url)
    assert len(roles_shown) == len(Role)  # every role reads item pages (read-only ones too)

    api = Client(headers=bearer_for(make_user("url_api_admin", Role.ADMIN)))
    detail = api.get(f"/api/v1/items/{item.pk}")
    assert detail.status_code == 200
    assert "db.canary-host.example.com:8443/console/login" in detail.content.decode()
    for url in LISTS:
        _rows, body = _walk(api, url)
        assert MARKER not in body, url
    assert MARKER not in detail.content.decode()
