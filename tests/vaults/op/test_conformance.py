"""Every real `op` output sample parses: routed by the command in its file name."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.vaults.op.conftest import FINGERPRINT_KEY, OP_SAMPLES, sample_files
from vaults.op import parse

# File names are `<command>_<source>_<case>.json`; the command is the part before the first "_".
ROUTES: dict[str, Callable[[bytes], Any]] = {
    "whoami": parse.parse_whoami,
    "vault-list": parse.parse_vault_list,
    "vault-list-user": parse.parse_vault_list,  # `op vault list --user U`: same rows
    "vault-get": parse.parse_vault_get,
    "vault-user-list": parse.parse_vault_user_list,
    "item-list": parse.parse_item_list,
    "item-list-include-archive": parse.parse_item_list,
    "item-get": lambda raw: parse.parse_item_get(raw, fingerprint_key=FINGERPRINT_KEY),
    "user-list": parse.parse_user_list,
    "user-list-group": parse.parse_group_user_list,  # `op user list --group G`: members with role
    "group-list": parse.parse_group_list,
    "group-list-vault": parse.parse_group_list,  # `op group list --vault V`: groups, no permissions
    "service-account-ratelimit": parse.parse_ratelimit,
}

SKIPPED = {
    "item-get-fields-type-otp": "one field from `op item get --fields type=otp`; OpenClaw never runs it "
    "(test_secret_safety checks it is rejected without echoing the OTP seed)",
    "document-list-include-archive": "`op document list` is not used: documents also appear in `item list`",
    "account-list": "`op account list` is not used: a service account has exactly one account",
    "account-get": "`op account get` is not used: `whoami` identifies the account",
    "user-get": "`op user get` is not used: `user list` gives every user in one request",
    "group-get": "`op group get` is not used: `group list` gives every group in one request",
    "events-api": "Events API responses are parsed by the events client, not by vaults/op",
}


def command_of(path: Path) -> str:
    return path.name.split("_", 1)[0].removesuffix(".json")


def _params() -> list[Any]:
    files = sample_files()
    if not files:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{OP_SAMPLES} is absent in this checkout"))]
    return [pytest.param(path, id=path.name) for path in files]


@pytest.mark.parametrize("path", _params())
def test_it_parses_every_op_sample(path: Path) -> None:
    command = command_of(path)
    if command in SKIPPED:
        pytest.skip(SKIPPED[command])
    assert command in ROUTES, f"new sample {path.name}: route it to a parser or skip it with a reason"
    raw = path.read_bytes()
    data = json.loads(raw)
    result = ROUTES[command](raw)
    if isinstance(data, list):
        assert len(result) == len(data)
    elif command == "item-get":
        assert result.summary.id == data["id"]
        assert len(result.fields) == len(data.get("fields", []))
        assert len({f.id for f in result.fields}) == len(result.fields)


def test_every_skipped_and_routed_prefix_still_has_a_sample() -> None:
    if not OP_SAMPLES.is_dir():
        pytest.skip(f"{OP_SAMPLES} is absent in this checkout")
    present = {command_of(p) for p in sample_files()}
    assert set(ROUTES) | set(SKIPPED) == present
