"""Property tests: any JSON either parses or raises OpMalformedOutput; planted secrets never leak."""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.vaults.op.conftest import FINGERPRINT_KEY
from tests.vaults.op.record_strings import texts_in
from vaults.op import OpMalformedOutput, parse

PARSERS: dict[str, Callable[[bytes], Any]] = {
    "whoami": parse.parse_whoami,
    "vault list": parse.parse_vault_list,
    "vault get": parse.parse_vault_get,
    "item list": parse.parse_item_list,
    "item get": lambda raw: parse.parse_item_get(raw, fingerprint_key=FINGERPRINT_KEY),
    "item summary": parse.parse_item_summary,
    "user list": parse.parse_user_list,
    "group list": parse.parse_group_list,
    "vault user list": parse.parse_vault_user_list,
    "vault group list": parse.parse_vault_group_list,
    "group user list": parse.parse_group_user_list,
    "ratelimit": parse.parse_ratelimit,
}

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
# Objects that look like op output, with keys op really prints, so the parsers get past the
# top-level checks and meet wrong types deep inside.
KNOWN_KEYS = ["id", "uuid", "name", "title", "version", "vault", "category", "tags", "urls", "state", "favorite",
              "fields", "sections", "type", "purpose", "label", "value", "section", "password_details", "history",
              "permissions", "content_version", "created_at", "updated_at", "url", "user_uuid", "action", "limit",
              "used", "remaining", "reset", "role", "email", "href", "primary", "strength", "items"]  # fmt: skip
op_like = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KNOWN_KEYS) | st.text(max_size=5), children, max_size=6)
    ),
    max_leaves=30,
)


def only_parses_or_reports_malformed(raw: bytes) -> None:
    for name, parser in PARSERS.items():
        try:
            parser(raw)
        except OpMalformedOutput:
            pass
        except Exception as exc:  # the property under test: nothing but OpMalformedOutput
            raise AssertionError(f"{name} raised {type(exc).__name__}: {exc}") from exc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_it_parses_or_reports_malformed_for_arbitrary_json(value: Any) -> None:
    only_parses_or_reports_malformed(json.dumps(value).encode())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(op_like)
def test_it_parses_or_reports_malformed_for_op_shaped_json(value: Any) -> None:
    only_parses_or_reports_malformed(json.dumps(value).encode())


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_it_parses_or_reports_malformed_for_arbitrary_bytes(raw: bytes) -> None:
    only_parses_or_reports_malformed(raw)


canaries = st.text(alphabet=string.ascii_letters + string.digits + "!@#$%^&*-_ ", min_size=8, max_size=120).map(
    lambda s: f"CANARY{s}"
)
metadata_text = st.text(max_size=30).filter(lambda s: "CANARY" not in s)
extra_field = st.fixed_dictionaries(
    {"id": metadata_text, "type": st.sampled_from(["STRING", "URL", "EMAIL", "MENU", "PHONE"]), "label": metadata_text}
)


@settings(max_examples=150, deadline=None)
@given(
    canary=canaries,
    secret_type=st.sampled_from(["CONCEALED", "SSHKEY", "OTP"]),
    where=st.sampled_from(["value", "notes", "history", "additional_information", "ssh_formats"]),
    title=metadata_text,
    extras=st.lists(extra_field, max_size=3),
    unknown=st.dictionaries(st.text(min_size=1, max_size=8).filter(lambda k: k not in KNOWN_KEYS), scalars, max_size=3),
)
def test_a_value_planted_in_a_secret_place_never_reaches_the_record(
    canary: str, secret_type: str, where: str, title: str, extras: list[dict[str, Any]], unknown: dict[str, Any]
) -> None:
    field: dict[str, Any] = {"id": "password", "type": secret_type, "label": "password", **unknown}
    fields: list[dict[str, Any]] = [field, *extras]
    item: dict[str, Any] = {
        "id": "a" * 26,
        "title": title,
        "version": 1,
        "vault": {"id": "v" * 26, "name": "Vault"},
        "category": "LOGIN",
        "fields": fields,
    }
    if where == "value":
        field["value"] = canary
    elif where == "notes":
        fields.append(
            {"id": "notesPlain", "type": "STRING", "purpose": "NOTES", "label": "notesPlain", "value": canary}
        )
    elif where == "history":
        field["value"] = "current-value"
        field["password_details"] = {"strength": "WEAK", "history": [canary, "other"]}
    elif where == "additional_information":
        item["additional_information"] = canary
    else:
        field["ssh_formats"] = {"openssh": {"value": canary, "reference": "op://x"}}

    raw = json.dumps(item).encode()
    detail = parse.parse_item_get(raw, fingerprint_key=FINGERPRINT_KEY)
    for text in texts_in(detail):
        assert canary not in text
    for text in texts_in(parse.parse_item_summary(raw)):
        assert canary not in text
    if where == "history" and secret_type != "OTP":
        assert detail.fields[0].secret is not None and detail.fields[0].secret.history_count == 2
