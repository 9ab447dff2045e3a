"""What the parsers keep that earlier versions dropped: user states verbatim, DOCUMENT files,
`password_details.generated`. Real samples where they exist (skipped without the samples
folder), op-shaped fixtures where no sample shows the shape (a DOCUMENT's `files`)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.op_samples import sample_json
from tests.vaults.op.conftest import FINGERPRINT_KEY
from vaults.op import OpMalformedOutput, parse


def dumps(data: Any) -> bytes:
    return json.dumps(data).encode()


def user_row(state: str) -> dict[str, Any]:
    return {"id": "5GHHPJK5HZC5BAT7WDUXW57G44", "name": "Eve", "email": "eve@example.com", "type": "MEMBER", "state": state}


# --- user states ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "printed",
    ["ACTIVE", "RECOVERY_STARTED", "RECOVERY_ACCEPTED", "SUSPENDED", "TRANSFER_STARTED", "TRANSFER_SUSPENDED"],
)
def test_every_user_state_op_prints_is_kept_verbatim(printed: str) -> None:
    [user] = parse.parse_user_list(dumps([user_row(printed)]))

    assert user.state == printed


def test_a_state_op_adds_later_is_kept_verbatim_not_mapped_to_a_known_one() -> None:
    [user] = parse.parse_user_list(dumps([user_row("LOCKED_BY_POLICY_2030")]))

    assert user.state == "LOCKED_BY_POLICY_2030"


def test_the_suspended_grantee_of_the_op_2_6_sample_keeps_its_state() -> None:
    rows = sample_json("vault-user-list_blog-kenzauros_2.6.0.json")

    grants = parse.parse_vault_user_list(dumps(rows))

    assert [g.state for g in grants] == [r["state"] for r in rows] == ["ACTIVE", "SUSPENDED"]


def test_users_of_the_real_user_list_sample_keep_their_states() -> None:
    rows = sample_json("user-list_pyop_all.json")

    users = parse.parse_user_list(dumps(rows))

    assert [u.state for u in users] == [r["state"] for r in rows]


# --- password_details.generated --------------------------------------------------------------


def test_a_generated_password_of_a_real_sample_is_marked_generated() -> None:
    data = sample_json("item-get_pyop_login-example-login-1.json")

    detail = parse.parse_item_get(dumps(data), fingerprint_key=FINGERPRINT_KEY)

    [password] = [f for f in detail.fields if f.purpose == "PASSWORD"]
    assert password.generated is True
    assert all(f.generated is None for f in detail.fields if f.secret is None)


def item(fields: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "id": "aaaaaaaaaaaaaaaaaaaaaaaaaa",
        "title": "Something",
        "version": 3,
        "vault": {"id": "vvvvvvvvvvvvvvvvvvvvvvvvvv", "name": "Ops"},
        "category": "LOGIN",
        "fields": fields,
        **extra,
    }


def password(details: dict[str, Any] | None) -> dict[str, Any]:
    field: dict[str, Any] = {"id": "password", "type": "CONCEALED", "purpose": "PASSWORD", "label": "password",
                             "value": "correct horse battery staple"}
    if details is not None:
        field["password_details"] = details
    return field


@pytest.mark.parametrize(
    ("details", "expected"),
    [
        ({"strength": "WEAK", "generated": False}, False),  # a person chose it
        ({"strength": "FANTASTIC", "generated": True}, True),
        ({"strength": "GOOD"}, None),  # decoy: op did not say, so neither generated nor chosen
        (None, None),
    ],
)
def test_generated_is_true_false_or_unknown_as_op_printed_it(details: dict[str, Any] | None, expected: bool | None) -> None:
    detail = parse.parse_item_get(dumps(item([password(details)])), fingerprint_key=FINGERPRINT_KEY)

    assert detail.fields[0].generated is expected


def test_a_generated_flag_that_is_not_a_boolean_is_malformed_output() -> None:
    with pytest.raises(OpMalformedOutput, match="generated"):
        parse.parse_item_get(dumps(item([password({"generated": "yes"})])), fingerprint_key=FINGERPRINT_KEY)


# --- DOCUMENT files ---------------------------------------------------------------------------


def document(files: Any) -> dict[str, Any]:
    """`op item get` of a DOCUMENT (op 2.x): a notes field, then `files` with a download path."""
    return item(
        [{"id": "notesPlain", "type": "STRING", "purpose": "NOTES", "label": "notesPlain", "value": ""}],
        category="DOCUMENT",
        files=files,
    )


def test_a_documents_files_keep_name_and_size_only() -> None:
    files = [
        {"id": "fj3kq2", "name": "tiny.txt", "size": 10,
         "content_path": "/v1/vaults/vvvvvvvvvvvvvvvvvvvvvvvvvv/items/aaaaaaaaaaaaaaaaaaaaaaaaaa/files/fj3kq2/content"},
        {"id": "x8d1", "name": "Quarterly Access Review.pdf", "size": 10_485_760, "section": {"id": "add more"}},
    ]

    detail = parse.parse_item_get(dumps(document(files)), fingerprint_key=FINGERPRINT_KEY)

    assert [(f.name, f.size) for f in detail.files] == [("tiny.txt", 10), ("Quarterly Access Review.pdf", 10_485_760)]
    assert "content_path" not in repr(detail) and "/files/" not in repr(detail)


def test_an_item_without_files_has_none() -> None:
    detail = parse.parse_item_get(dumps(item([password({"generated": True})])), fingerprint_key=FINGERPRINT_KEY)

    assert detail.files == ()


def test_a_file_without_a_size_keeps_its_name() -> None:
    detail = parse.parse_item_get(dumps(document([{"id": "f1", "name": "empty.bin"}])), fingerprint_key=FINGERPRINT_KEY)

    assert [(f.name, f.size) for f in detail.files] == [("empty.bin", None)]


@pytest.mark.parametrize("files", [{"name": "x"}, "tiny.txt", [["tiny.txt"]], [{"name": "x", "size": "big"}]])
def test_files_of_the_wrong_shape_are_malformed_output_naming_the_key(files: Any) -> None:
    with pytest.raises(OpMalformedOutput, match="file"):
        parse.parse_item_get(dumps(document(files)), fingerprint_key=FINGERPRINT_KEY)


def _login(username: object, password: str = "correct horse battery staple") -> bytes:  # noqa: S107 - a test value
    fields: list[dict[str, Any]] = [
        {"id": "password", "type": "CONCEALED", "purpose": "PASSWORD", "label": "password", "value": password},
    ]
    if username is not None:
        fields.insert(0, {"id": "username", "type": "STRING", "purpose": "USERNAME", "label": "username",
                          "value": username})  # fmt: skip
    return json.dumps({"id": "a" * 26, "title": "GitHub", "version": 1, "vault": {"id": "v" * 26},
                       "category": "LOGIN", "fields": fields}).encode()  # fmt: skip


def test_a_sign_in_name_is_kept_only_as_a_keyed_case_folded_fingerprint() -> None:
    alice = parse.parse_item_get(_login("Alice@Example.com"), fingerprint_key=FINGERPRINT_KEY)
    same = parse.parse_item_get(_login("  alice@example.com "), fingerprint_key=FINGERPRINT_KEY)
    bob = parse.parse_item_get(_login("bob@example.com"), fingerprint_key=FINGERPRINT_KEY)
    other_key = parse.parse_item_get(_login("alice@example.com"), fingerprint_key=b"another key")

    assert len(alice.username_fingerprint) == 64
    assert alice.username_fingerprint == same.username_fingerprint != bob.username_fingerprint
    assert other_key.username_fingerprint != alice.username_fingerprint
    assert "alice" not in repr(alice).lower()


def test_a_sign_in_name_never_shares_a_fingerprint_with_the_same_text_as_a_password() -> None:
    detail = parse.parse_item_get(_login("hunter2-hunter2", password="hunter2-hunter2"), fingerprint_key=FINGERPRINT_KEY)

    assert detail.username_fingerprint != detail.secret_fields[0].secret.fingerprint


@pytest.mark.parametrize("username", [None, "", "   ", 42])
def test_an_item_without_a_usable_sign_in_name_has_no_fingerprint(username: object) -> None:
    assert parse.parse_item_get(_login(username), fingerprint_key=FINGERPRINT_KEY).username_fingerprint == ""
