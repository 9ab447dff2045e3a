"""Issue #14 item 3: credentials inside item URLs never leave `vaults/op/`.

Unit tests of `redact_url` over many URL shapes (and decoys that must stay byte for byte), the
parsers that apply it, the command builder that refuses credentialed URLs, and the data
migration that cleans URLs stored before the redaction existed."""

from __future__ import annotations

import importlib
import json

import pytest
from django.apps import apps

from tests.vaults.factories import make_account, make_item, make_vault
from tests.vaults.op.conftest import FINGERPRINT_KEY
from vaults.models import Item
from vaults.op import OpInvalidArgument, commands, parse
from vaults.op.url_redaction import REDACTED, has_credentials, is_secret_key, redact_url

ITEM = "nnotgv5xwrhjbdj6bt3rugrijy"
VAULT = "gshlsjsajnawtnjynzgwmiebge"


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        # userinfo: user and password, a user alone, a password holding "@", with a port
        ("https://admin:PASSWORD@db.example.com/?token=TOKEN", f"https://db.example.com/?token={REDACTED}"),
        ("https://admin@db.example.com/console", "https://db.example.com/console"),
        ("https://admin:p@ss@db.example.com:8443/x", "https://db.example.com:8443/x"),
        ("postgres://app:hunter2@10.0.0.5:5432/payments", "postgres://10.0.0.5:5432/payments"),
        ("ftp://:onlypassword@files.example.com/", "ftp://files.example.com/"),
        # typed without a scheme
        ("admin:PASSWORD@db.example.com/x", "db.example.com/x"),
        ("deploy@build.example.com", "build.example.com"),
        # secret-looking query keys, whatever their case, spelling or encoding
        ("https://api.example.com/v1?apikey=K1&page=2", f"https://api.example.com/v1?apikey={REDACTED}&page=2"),
        ("https://api.example.com/v1?apiKey=K1", f"https://api.example.com/v1?apiKey={REDACTED}"),
        ("https://api.example.com/v1?API-KEY=K1", f"https://api.example.com/v1?API-KEY={REDACTED}"),
        ("https://api.example.com/v1?Api_Key=K1", f"https://api.example.com/v1?Api_Key={REDACTED}"),
        ("https://x.example.com/?TOKEN=T&ref=docs", f"https://x.example.com/?TOKEN={REDACTED}&ref=docs"),
        ("https://x.example.com/?access_token=T", f"https://x.example.com/?access_token={REDACTED}"),
        ("https://x.example.com/?accessToken=T", f"https://x.example.com/?accessToken={REDACTED}"),
        ("https://x.example.com/?client_secret=S", f"https://x.example.com/?client_secret={REDACTED}"),
        ("https://x.example.com/?password=P&user=bob", f"https://x.example.com/?password={REDACTED}&user=bob"),
        ("https://x.example.com/?pwd=P", f"https://x.example.com/?pwd={REDACTED}"),
        ("https://x.example.com/?auth=A", f"https://x.example.com/?auth={REDACTED}"),
        ("https://x.example.com/cb?code=C&state=xyz", f"https://x.example.com/cb?code={REDACTED}&state=xyz"),
        ("https://x.example.com/?%74oken=T", f"https://x.example.com/?%74oken={REDACTED}"),
        ("https://x.example.com/?key=K", f"https://x.example.com/?key={REDACTED}"),
        (
            "https://bucket.s3.amazonaws.com/o.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F2026"
            "&X-Amz-Security-Token=ST&X-Amz-Signature=abc123",
            f"https://bucket.s3.amazonaws.com/o.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={REDACTED}"
            f"&X-Amz-Security-Token={REDACTED}&X-Amz-Signature={REDACTED}",
        ),
        (
            "https://acct.blob.core.windows.net/c/b?sv=2024-01-01&se=2026-12-31&sp=r&sig=SIG%3D",
            f"https://acct.blob.core.windows.net/c/b?sv=2024-01-01&se=2026-12-31&sp=r&sig={REDACTED}",
        ),
        ("https://x.example.com/?AWSAccessKeyId=AKIA", f"https://x.example.com/?AWSAccessKeyId={REDACTED}"),
        # fragments: implicit-flow OAuth puts the token there
        (
            "https://app.example.com/cb#access_token=T&expires_in=3600",
            f"https://app.example.com/cb#access_token={REDACTED}&expires_in=3600",
        ),
        ("https://app.example.com/#id_token=J", f"https://app.example.com/#id_token={REDACTED}"),
        # everything at once
        (
            "HTTPS://u:p@Example.COM:444/a/b;c?x=1&Signature=s#frag=1&token=t",
            f"HTTPS://Example.COM:444/a/b;c?x=1&Signature={REDACTED}#frag=1&token={REDACTED}",
        ),
    ],
)
def test_it_strips_userinfo_and_redacts_secret_looking_parameters(href: str, expected: str) -> None:
    assert redact_url(href) == expected
    assert has_credentials(href)
    assert redact_url(expected) == expected  # idempotent: a second sync changes nothing


@pytest.mark.parametrize(
    "href",
    [
        "https://example.com",
        "example.com",
        "https://docs.example.com/guide?page=2",
        "https://docs.example.com/guide?ref=docs&lang=en#section-2",
        "https://shop.example.com/keyboard/keys?sort=price",  # "key" in the path is not a parameter
        "https://example.com/search?q=token+rotation",  # the word is a value, not a key
        "https://example.com/?author=alice&authuser=0&passive=1&monkey=2&keyword=x",  # words containing a secret word
        "https://example.com/?email=alice@example.org",  # "@" in the query is not userinfo
        "https://[2001:db8::1]:8443/admin",
        "db.example.com:5432/payments",
        "mailto:security@example.com",
        "https://example.com/#token",  # a fragment without "=" is an anchor
        "https://example.com/?token",  # a key without a value has nothing to hide
        "https://example.com/a%40b/c",
        "",
    ],
)
def test_it_leaves_urls_without_credentials_byte_for_byte(href: str) -> None:
    assert redact_url(href) == href
    assert not has_credentials(href)


@pytest.mark.parametrize(
    "href",
    [
        "https://admin:CANARY-pw@[::1/x",
        "https://admin:CANARY-pw@exa\uff0fmple.com/",
        "https://a:CANARY-pw@h\u2100.com/",
    ],
)
def test_it_redacts_urls_that_urlsplit_refuses_instead_of_failing_open(href: str) -> None:
    assert "CANARY" not in redact_url(href)


def test_it_classifies_keys_by_words_not_substrings() -> None:
    assert is_secret_key("sessionToken") and is_secret_key("x-api-key") and is_secret_key("private_key")
    assert not is_secret_key("page") and not is_secret_key("sort_order") and not is_secret_key("tokenizer_mode")


def _item_json(href: str) -> bytes:
    return json.dumps({
        "id": ITEM, "title": "Payments DB", "version": 1, "category": "DATABASE",
        "vault": {"id": VAULT, "name": "Prod"},
        "urls": [{"label": "console", "primary": True, "href": href}, {"href": "https://docs.example.com/?page=2"}],
    }).encode()  # fmt: skip


def test_item_list_and_item_get_return_urls_without_credentials() -> None:
    href = "https://admin:CANARY-pw@db.example.com/console?token=CANARY-tok&ref=docs"
    listed = parse.parse_item_list(b"[" + _item_json(href) + b"]")[0]
    detail = parse.parse_item_get(_item_json(href), fingerprint_key=FINGERPRINT_KEY)
    edited = parse.parse_item_summary(_item_json(href))

    for summary in (listed, detail.summary, edited):
        assert [u.href for u in summary.urls] == [
            f"https://db.example.com/console?token={REDACTED}&ref=docs",
            "https://docs.example.com/?page=2",
        ]
        assert "CANARY" not in repr(summary)


def test_the_command_builder_refuses_to_set_a_url_with_credentials() -> None:
    with pytest.raises(OpInvalidArgument, match="user name, password or secret-looking parameter"):
        commands.item_edit_url(ITEM, VAULT, "https://admin:pw@db.example.com/")
    with pytest.raises(OpInvalidArgument):
        commands.item_edit_url(ITEM, VAULT, "https://db.example.com/?apikey=abc")
    # The decoy: an ordinary URL with parameters is built as typed.
    built = commands.item_edit_url(ITEM, VAULT, "https://db.example.com/console?page=2")
    assert built.args[-1] == "--url=https://db.example.com/console?page=2"


@pytest.mark.django_db
def test_the_data_migration_redacts_urls_stored_before_the_fix_and_keeps_the_others() -> None:
    migration = importlib.import_module("vaults.migrations.0005_h3_redact_item_urls")
    vault = make_vault(account=make_account())
    leaky = make_item(vault=vault, title="Leaky", urls=[
        {"label": "db", "href": "https://admin:CANARY-pw@db.example.com/x?token=CANARY-tok", "primary": True},
        {"label": "docs", "href": "https://docs.example.com/?page=2", "primary": False},
    ])  # fmt: skip
    clean = make_item(
        vault=vault, title="Clean", urls=[{"label": "", "href": "https://example.com/?ref=docs", "primary": True}]
    )
    odd = make_item(vault=vault, title="Odd", urls=[{"label": "no href"}])
    Item.objects.filter(pk=odd.pk).update(urls=[{"label": "no href"}, "not an object"])  # junk a JSON column may hold

    migration.redact_stored_urls(apps, None)

    leaky.refresh_from_db()
    clean.refresh_from_db()
    odd.refresh_from_db()
    assert leaky.urls == [
        {"label": "db", "href": f"https://db.example.com/x?token={REDACTED}", "primary": True},
        {"label": "docs", "href": "https://docs.example.com/?page=2", "primary": False},
    ]
    assert clean.urls == [{"label": "", "href": "https://example.com/?ref=docs", "primary": True}]
    assert odd.urls == [{"label": "no href"}, "not an object"]
