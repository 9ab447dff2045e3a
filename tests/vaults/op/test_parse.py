"""Parsers on real samples and on our own fixtures (per category, unknown fields, version drift)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from tests.vaults.op.conftest import FINGERPRINT_KEY
from vaults.op import OpMalformedOutput, parse
from vaults.op.fingerprint import fingerprint

Sample = Callable[[str], bytes]


def dumps(data: Any) -> bytes:
    return json.dumps(data).encode()


def item(category: str, fields: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "id": "aaaaaaaaaaaaaaaaaaaaaaaaaa",
        "title": f"A {category.lower()}",
        "version": 7,
        "vault": {"id": "vvvvvvvvvvvvvvvvvvvvvvvvvv", "name": "Ops", "future_vault_key": 1},
        "category": category,
        "last_edited_by": "UUUUUUUUUUUUUUUUUUUUUUUUUU",
        "created_at": "2024-01-02T03:04:05.123456789Z",
        "updated_at": "2024-02-03T04:05:06+02:00",
        "additional_information": "kept out of every record",
        "a_field_op_adds_in_2027": {"nested": [1, 2, 3]},
        "fields": fields,
        **extra,
    }


def get(data: dict[str, Any]) -> Any:
    return parse.parse_item_get(dumps(data), fingerprint_key=FINGERPRINT_KEY)


# --- whoami -----------------------------------------------------------------------------------


def test_it_reads_whoami_of_a_service_account_on_op_2_20(sample: Sample) -> None:
    who = parse.parse_whoami(sample("whoami_pyop_service-account_2.20.0.json"))
    assert who.user_id == "FZTDCNIJAOEBZZ2VQFNDVHC3K6"
    assert who.account_id == "M5C4BT3KMQ7HROISKYLWDUXW57"
    assert who.user_type == "SERVICE_ACCOUNT"
    assert who.url == "https://pyonepassword.1password.com"


def test_it_reads_whoami_of_op_2_18_which_printed_only_url_and_type(sample: Sample) -> None:
    who = parse.parse_whoami(sample("whoami_pyop_service-account_2.18.0-beta.01.json"))
    assert who.user_id is None
    assert who.url == "https://example-account.1password.com"
    assert who.user_type == "SERVICE_ACCOUNT"


def test_it_reads_whoami_of_a_person(sample: Sample) -> None:
    who = parse.parse_whoami(sample("whoami_pyop_user.json"))
    assert who.email == "example_user@example.email"
    assert who.user_type == ""


def test_it_rejects_whoami_without_any_identity() -> None:
    with pytest.raises(OpMalformedOutput, match="whoami"):
        parse.parse_whoami(b'{"something": "else"}')


# --- vaults -----------------------------------------------------------------------------------


def test_it_reads_vault_get(sample: Sample) -> None:
    vault = parse.parse_vault_get(sample("vault-get_pyop_test-data.json"))
    assert vault.id == "gshlsjsajnawtnjynzgwmiebge"
    assert vault.content_version == 130
    assert vault.vault_type == "USER_CREATED"
    assert vault.items == 14
    assert vault.created_at == datetime(2020, 12, 4, 0, 50, 32, tzinfo=UTC)


def test_it_reads_vault_list_rows_with_and_without_timestamps(sample: Sample) -> None:
    bare = parse.parse_vault_list(sample("vault-list_pyop_all.json"))
    assert bare[0].created_at is None and bare[0].items is None
    dated = parse.parse_vault_list(sample("vault-list_1pexporter_service-account.json"))
    assert dated[0].items == 4 and dated[0].updated_at == datetime(2024, 9, 3, 12, 58, 26, tzinfo=UTC)


def test_it_leaves_content_version_none_when_op_omits_it() -> None:
    (vault,) = parse.parse_vault_list(dumps([{"id": "v" * 26, "name": "Old op"}]))
    assert vault.content_version is None


def test_it_rejects_a_vault_without_id() -> None:
    with pytest.raises(OpMalformedOutput, match=r"vault \[1\] has no 'id'"):
        parse.parse_vault_list(dumps([{"id": "v" * 26}, {"name": "no id"}]))


@pytest.mark.parametrize("stdout", [b"", b"  \n", b"null", b"[]"])
def test_it_reads_an_empty_listing_as_no_rows(stdout: bytes) -> None:
    assert parse.parse_item_list(stdout) == ()


# --- items: list ------------------------------------------------------------------------------


def test_it_reads_archived_state_tags_and_urls_from_item_list(sample: Sample) -> None:
    items = {i.title: i for i in parse.parse_item_list(sample("item-list-include-archive_1pexporter.json"))}
    archived = items["Example (Archive)"]
    assert archived.state == "ARCHIVED" and archived.archived
    assert items["Example"].state == "ACTIVE" and not items["Example"].archived
    assert archived.tags == ("test",)
    assert archived.urls[0].href == "https://example.com" and archived.urls[0].primary
    assert archived.vault_id == "36vhq4xz3r6hnemzadk33evi4a"


def test_it_reads_favorite_from_item_list(sample: Sample) -> None:
    items = {i.id: i for i in parse.parse_item_list(sample("item-list_pyop_vault-test-data.json"))}
    assert items["nnotgv5xwrhjbdj6bt3rugrijy"].favorite
    assert not items["2dvgl7kk5yjrq3gxwqimp5awve"].favorite


def test_it_rejects_an_item_without_a_vault() -> None:
    with pytest.raises(OpMalformedOutput, match=r"item \[0\] has no 'vault'"):
        parse.parse_item_list(dumps([{"id": "a" * 26, "title": "t"}]))


def test_it_reads_a_url_without_label() -> None:
    detail = get(item("LOGIN", [], urls=[{"primary": True, "href": "https://acme.example"}, {"label": "no href"}]))
    assert [(u.label, u.href, u.primary) for u in detail.summary.urls] == [("", "https://acme.example", True)]


# --- items: get, per category -----------------------------------------------------------------


def test_it_fingerprints_a_login_password_and_keeps_op_strength_and_history_count() -> None:
    detail = get(
        item(
            "LOGIN",
            [
                {"id": "username", "type": "STRING", "purpose": "USERNAME", "label": "username", "value": "ann"},
                {
                    "id": "password",
                    "type": "CONCEALED",
                    "purpose": "PASSWORD",
                    "label": "password",
                    "value": "correct horse battery staple",
                    "password_details": {"strength": "good", "history": ["old-1", "old-2"], "entropy": 80},
                    "new_key": True,
                },
                {"id": "notesPlain", "type": "STRING", "purpose": "NOTES", "label": "notesPlain", "value": "hi"},
            ],
        )
    )
    (secret_field,) = detail.secret_fields
    facts = secret_field.secret
    assert facts is not None
    assert facts.fingerprint == fingerprint("correct horse battery staple", key=FINGERPRINT_KEY)
    assert facts.strength == "GOOD"
    assert facts.history_count == 2
    assert facts.length == len("correct horse battery staple")
    assert facts.zxcvbn_score is not None and 0 <= facts.zxcvbn_score <= 4
    assert detail.has_notes
    assert detail.summary.created_at == datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert detail.summary.updated_at is not None and detail.summary.updated_at.utcoffset() is not None


def test_it_reads_a_password_item(sample: Sample) -> None:
    detail = parse.parse_item_get(sample("item-get_pyop_password.json"), fingerprint_key=FINGERPRINT_KEY)
    assert detail.summary.category == "PASSWORD"
    (field,) = detail.secret_fields
    assert field.secret is not None and field.secret.strength == "FANTASTIC"
    assert not detail.has_notes


def test_it_reads_api_credential_expiry_from_unix_seconds(sample: Sample) -> None:
    detail = parse.parse_item_get(sample("item-get_pyop_api-credential.json"), fingerprint_key=FINGERPRINT_KEY)
    assert detail.expires_at == date(2022, 6, 30)
    assert [f.id for f in detail.secret_fields] == ["credential"]


@pytest.mark.parametrize(
    ("field_type", "value", "expected"),
    [
        ("DATE", "2031-05-17", date(2031, 5, 17)),
        ("DATE", 1656590460, date(2022, 6, 30)),
        ("MONTH_YEAR", "202612", date(2026, 12, 31)),
        ("DATE", "not a date", None),
        ("DATE", None, None),
    ],
)
def test_it_reads_expiry_in_every_format_op_prints(field_type: str, value: Any, expected: date | None) -> None:
    field = {"id": "expires", "type": field_type, "label": "expires"}
    if value is not None:
        field["value"] = value
    assert get(item("API_CREDENTIAL", [field])).expires_at == expected


def test_it_ignores_dates_that_are_not_expiry(sample: Sample) -> None:
    detail = parse.parse_item_get(sample("item-get_pyop_identity.json"), fingerprint_key=FINGERPRINT_KEY)
    assert detail.expires_at is None  # the birth date is a DATE field too


def test_it_reads_a_database_item(sample: Sample) -> None:
    detail = parse.parse_item_get(sample("item-get_pyop_database-1.json"), fingerprint_key=FINGERPRINT_KEY)
    assert detail.summary.category == "DATABASE"
    assert [f.label for f in detail.secret_fields] == ["password"]
    assert {f.label for f in detail.fields} >= {"server", "port", "database", "username", "password"}


def test_it_gives_equal_fingerprints_to_equal_values_in_a_server_item(sample: Sample) -> None:
    detail = parse.parse_item_get(sample("item-get_pyop_server.json"), fingerprint_key=FINGERPRINT_KEY)
    first, second = detail.secret_fields
    assert first.secret is not None and second.secret is not None
    assert first.secret.fingerprint == second.secret.fingerprint  # same "example_admin_password"
    assert second.section_label == "Admin Console"


def test_it_fingerprints_an_ssh_private_key_without_scoring_it(sample: Sample) -> None:
    detail = parse.parse_item_get(sample("item-get_pyop_ssh-key.json"), fingerprint_key=FINGERPRINT_KEY)
    (key_field,) = detail.secret_fields
    assert key_field.type == "SSHKEY"
    assert key_field.secret is not None
    assert key_field.secret.fingerprint is not None and key_field.secret.zxcvbn_score is None


def test_it_keeps_only_the_presence_of_a_secure_note(sample: Sample) -> None:
    detail = parse.parse_item_get(sample("item-get_pyop_secure-note.json"), fingerprint_key=FINGERPRINT_KEY)
    assert detail.has_notes
    assert detail.secret_fields == ()


def test_it_keeps_nothing_of_an_otp_field() -> None:
    detail = get(item("LOGIN", [{"id": "TOTP_x", "type": "OTP", "label": "one-time password", "value": "JBSWY3DP"}]))
    (field,) = detail.fields
    assert field.type == "OTP" and field.secret is None


def test_it_marks_a_concealed_field_without_value_as_unavailable(sample: Sample) -> None:
    detail = get(item("SERVER", [{"id": "password", "type": "CONCEALED", "label": "password"}]))
    (field,) = detail.secret_fields
    assert field.secret is not None
    assert not field.secret.value_available
    assert field.secret.fingerprint is None and field.secret.length is None


def test_it_does_not_fingerprint_an_empty_password() -> None:
    detail = get(item("LOGIN", [{"id": "password", "type": "CONCEALED", "label": "password", "value": ""}]))
    (field,) = detail.secret_fields
    assert field.secret is not None and field.secret.value_available
    assert field.secret.fingerprint is None and field.secret.length == 0


def test_it_makes_duplicate_field_ids_unique(sample: Sample) -> None:
    detail = parse.parse_item_get(sample("item-get_ansible_v2_out_05.json"), fingerprint_key=FINGERPRINT_KEY)
    ids = [f.id for f in detail.fields]
    assert len(ids) == len(set(ids))
    assert "7osqcvd43i75teocdzbb6d7mie/id2" in ids


def test_it_takes_section_labels_from_the_sections_list_when_a_field_lacks_one() -> None:
    detail = get(
        item(
            "LOGIN",
            [{"id": "f", "type": "STRING", "label": "x", "section": {"id": "s1"}}],
            sections=[{"id": "s1", "label": "Deploy"}],
        )
    )
    assert detail.fields[0].section_label == "Deploy"


def test_it_tolerates_an_item_without_fields() -> None:
    data = item("SECURE_NOTE", [])
    del data["fields"]
    assert get(data).fields == ()


def test_it_rejects_a_concealed_value_that_is_not_text() -> None:
    with pytest.raises(OpMalformedOutput, match=r"'value' of field \[0\]"):
        get(item("LOGIN", [{"id": "p", "type": "CONCEALED", "value": {"nested": "x"}}]))


def test_it_rejects_fields_that_are_not_a_list() -> None:
    with pytest.raises(OpMalformedOutput, match="'fields' of item"):
        get(item("LOGIN", {"id": "p"}))  # type: ignore[arg-type]


# --- users, groups, grants --------------------------------------------------------------------


def test_it_reads_users(sample: Sample) -> None:
    users = parse.parse_user_list(sample("user-list_pyop_all.json"))
    assert (users[0].id, users[0].user_type, users[0].state) == ("5GHHPJK5HZC5BAT7WDUXW57G44", "MEMBER", "ACTIVE")


def test_it_reads_groups(sample: Sample) -> None:
    groups = parse.parse_group_list(sample("group-list_pyop_all.json"))
    assert {g.name for g in groups} == {"Owners", "Administrators", "Recovery", "Team Members"}


def test_it_reads_vault_user_grants_of_op_2_6_with_uuid_and_allow_permissions(sample: Sample) -> None:
    grants = parse.parse_vault_user_list(sample("vault-user-list_blog-kenzauros_2.6.0.json"))
    assert grants[0].user_id == "OUX2JSFNPVHUTF8SSRRIPH4CWU"
    assert grants[0].permissions == ("allow_viewing", "allow_editing", "allow_managing")
    assert grants[1].state == "SUSPENDED"


def test_it_reads_vault_user_grants_of_newer_op_with_id_and_granular_permissions() -> None:
    grants = parse.parse_vault_user_list(
        dumps([{"id": "U" * 26, "name": "N", "email": "n@x", "type": "MEMBER", "state": "ACTIVE",
                "permissions": ["VIEW_ITEMS", "manage_vault"]}])
    )  # fmt: skip
    assert grants[0].user_id == "U" * 26
    assert grants[0].permissions == ("view_items", "manage_vault")


def test_it_reads_vault_group_grants_with_missing_permissions_as_none() -> None:
    grants = parse.parse_vault_group_list(dumps([{"id": "g" * 26, "name": "Owners"}]))
    assert grants[0].permissions == ()


def test_it_reads_group_members_with_role(sample: Sample) -> None:
    (member,) = parse.parse_group_user_list(sample("user-list-group_pyop_owners.json"))
    assert member.role == "MANAGER" and member.user_id == "5GHHPJK5HZC5BAT7WDUXW57G44"


# --- rate limits ------------------------------------------------------------------------------


def test_it_reads_ratelimit_json(sample: Sample) -> None:
    rows = parse.parse_ratelimit(sample("service-account-ratelimit_1pexporter.json"))
    assert [(r.kind, r.action, r.limit, r.used, r.remaining, r.reset_seconds) for r in rows] == [
        ("token", "write", 100, 0, 100, 0),
        ("token", "read", 1000, 1, 999, 308),
        ("account", "read_write", 1000, 1, 999, 83108),
    ]


def test_it_reads_the_ratelimit_table_op_prints_without_json() -> None:
    table = (
        b"TYPE       ACTION        LIMIT    USED    REMAINING    RESET\n"
        b"token      write         100      0       100          N/A\n"
        b"token      read          1000     12      988          59 minutes from now\n"
        b"account    read_write    1000     12      988          23 hours from now\n"
    )
    rows = parse.parse_ratelimit(table)
    assert [(r.action, r.used, r.reset_seconds) for r in rows] == [
        ("write", 0, None),
        ("read", 12, 3540),
        ("read_write", 12, 82800),
    ]


# --- malformed input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stdout", "message"),
    [
        (b"\xff\xfe{}", "not valid UTF-8"),
        (b"{not json", "not valid JSON"),
        (b'{"a": 1}', "expected a list"),
        (b"[1, 2]", r"item \[0\] is a number, expected an object"),
        (b"[" * 100000, "JSON"),
    ],
)
def test_it_names_the_command_and_the_problem_of_malformed_output(stdout: bytes, message: str) -> None:
    with pytest.raises(OpMalformedOutput, match=message) as caught:
        parse.parse_item_list(stdout)
    assert "op item list" in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is None


def test_it_refuses_empty_output_where_an_object_is_expected() -> None:
    with pytest.raises(OpMalformedOutput, match="printed nothing"):
        parse.parse_vault_get(b"")
