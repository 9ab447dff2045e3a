from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.op_samples import sample_json
from tests.vaults.fake_op.conftest import OpRunner, ok_json
from vaults.fake_op import account
from vaults.fake_op.calllog import count_calls, read_call_log


def _sample_keys(name: str) -> set[str]:
    sample = sample_json(name)
    row = sample[0] if isinstance(sample, list) else sample
    return set(row)


def _first_vault_with_items(op: OpRunner) -> tuple[str, list[dict[str, Any]]]:
    for vault in ok_json(op("vault list")):
        items = ok_json(op("item list", "--vault", vault["id"]))
        if len(items) >= 3:
            return vault["id"], items
    raise AssertionError("no vault with items")


def _split(command: str) -> list[str]:
    return command.split()


@pytest.mark.parametrize(
    ("command", "sample"),
    [
        ("whoami", "whoami_1pexporter_service-account.json"),
        ("vault list", "vault-list_1pexporter_service-account.json"),
        ("user list", "user-list_pyop_all.json"),
        ("group list", "group-list_pyop_all.json"),
    ],
)
def test_read_commands_have_the_keys_of_real_op(op: OpRunner, command: str, sample: str) -> None:
    payload = ok_json(op(*_split(command)))
    row = payload[0] if isinstance(payload, list) else payload
    assert set(row) == _sample_keys(sample)


def test_vault_and_item_commands_have_the_keys_of_real_op(op: OpRunner, demo_data: dict[str, Any]) -> None:
    vault_id, items = _first_vault_with_items(op)
    assert set(ok_json(op("vault get", vault_id))) == _sample_keys("vault-get_pyop_test-data.json")
    required = {"id", "title", "version", "vault", "category", "last_edited_by", "created_at", "updated_at"}
    assert all(
        required <= set(item)
        and set(item)
        <= _sample_keys("item-list-include-archive_1pexporter.json") | {"favorite", "tags", "state", "urls"}
        for item in items
    )
    detail = ok_json(op("item get", items[0]["id"], "--vault", vault_id))
    assert required | {"fields"} <= set(detail)
    assert set(ok_json(op("vault user", "list", vault_id))[0]) == _sample_keys(
        "vault-user-list_blog-kenzauros_2.6.0.json"
    )
    group = demo_data["groups"][0]
    assert set(ok_json(op("group", "user", "list", group["id"]))[0]) == _sample_keys("user-list-group_pyop_owners.json")
    ratelimit = ok_json(op("service-account", "ratelimit"))
    assert [set(row) for row in ratelimit] == [_sample_keys("service-account-ratelimit_1pexporter.json")] * 3


def test_output_is_indented_like_op(op: OpRunner) -> None:
    assert op("whoami").stdout.decode().startswith('{\n  "url": ')


def test_ratelimit_reports_the_calls_made(op: OpRunner) -> None:
    op("whoami")
    op("vault list")
    rows = ok_json(op("service-account", "ratelimit"))
    read = next(r for r in rows if r["action"] == "read")
    assert read["used"] == 3
    assert read["remaining"] == read["limit"] - 3


def test_item_get_leaves_concealed_values_out_unless_revealed(op: OpRunner) -> None:
    vault_id, items = _first_vault_with_items(op)
    for summary in items:
        hidden = ok_json(op("item get", summary["id"], "--vault", vault_id))
        concealed = [f for f in hidden["fields"] if f["type"] in ("CONCEALED", "SSHKEY", "OTP")]
        if concealed:
            break
    assert all("value" not in f for f in concealed)
    shown = ok_json(op("item get", summary["id"], "--vault", vault_id, "--reveal"))
    assert all(f.get("value") for f in shown["fields"] if f["type"] in ("CONCEALED", "SSHKEY", "OTP"))


def test_it_bumps_content_version_on_edit(op: OpRunner) -> None:
    vault_id, items = _first_vault_with_items(op)
    before = ok_json(op("vault get", vault_id))["content_version"]
    edited = ok_json(op("item edit", items[0]["id"], "--vault", vault_id, "--title", "Stripe Production API Key 9"))
    assert edited["title"] == "Stripe Production API Key 9"
    assert edited["version"] == items[0]["version"] + 1
    assert ok_json(op("vault get", vault_id))["content_version"] == before + 1


def test_tags_and_url_edits_are_applied(op: OpRunner) -> None:
    vault_id, items = _first_vault_with_items(op)
    edited = ok_json(
        op("item edit", items[0]["id"], "--vault", vault_id, "--tags", "a,b", "--url", "https://x.example")
    )
    assert edited["tags"] == ["a", "b"]
    assert edited["urls"][0]["href"] == "https://x.example"


def test_generate_password_makes_a_new_value_and_keeps_the_old_in_history(op: OpRunner, account_file: Path) -> None:
    vault_id, items = _first_vault_with_items(op)
    target = next(i for i in items if i["category"] in ("LOGIN", "PASSWORD"))
    old = account.secret_field(account.find(account.load(account_file)["items"], target["id"]) or {})
    assert old is not None
    op("item edit", target["id"], "--vault", vault_id, "--generate-password=letters,digits,32")
    new = account.find(account.load(account_file)["items"], target["id"])
    field = account.secret_field(new or {})
    assert field is not None and field["value"] != old["value"]
    assert field["value"].startswith("CANARY-")
    assert field["password_details"]["history"][0] == old["value"]
    assert field["value"] in account.load(account_file)["canaries"]


def test_move_gives_the_item_a_new_id_and_bumps_both_vaults(op: OpRunner) -> None:
    vaults = ok_json(op("vault list"))
    source, destination = vaults[0], vaults[1]
    item = ok_json(op("item list", "--vault", source["id"]))[0]
    moved = ok_json(
        op("item move", item["id"], "--current-vault", source["id"], "--destination-vault", destination["id"])
    )
    assert moved["id"] != item["id"]
    assert moved["vault"]["id"] == destination["id"]
    assert item["id"] not in {i["id"] for i in ok_json(op("item list", "--vault", source["id"]))}
    assert ok_json(op("vault get", source["id"]))["content_version"] == source["content_version"] + 1
    assert ok_json(op("vault get", destination["id"]))["content_version"] == destination["content_version"] + 1


def test_archive_hides_the_item_unless_include_archive(op: OpRunner) -> None:
    vault_id, items = _first_vault_with_items(op)
    result = op("item delete", items[0]["id"], "--vault", vault_id, "--archive")
    assert result.returncode == 0
    assert items[0]["id"] not in {i["id"] for i in ok_json(op("item list", "--vault", vault_id))}
    archived = [
        i for i in ok_json(op("item list", "--vault", vault_id, "--include-archive")) if i["id"] == items[0]["id"]
    ]
    assert archived[0]["state"] == "ARCHIVED"


def test_delete_without_archive_is_refused(op: OpRunner) -> None:
    vault_id, items = _first_vault_with_items(op)
    result = op("item delete", items[0]["id"], "--vault", vault_id)
    assert result.returncode == 1
    assert b"--archive" in result.stderr
    assert items[0]["id"] in {i["id"] for i in ok_json(op("item list", "--vault", vault_id))}


def test_revoke_removes_permissions_and_an_empty_set_removes_the_grant(op: OpRunner, demo_data: dict[str, Any]) -> None:
    service_account = demo_data["tokens"][0]["user_id"]
    vault = next(v for v in demo_data["vaults"] if v["created_by"] == service_account and len(v["user_grants"]) > 1)
    grant = vault["user_grants"][1]
    first, rest = grant["permissions"][0], grant["permissions"][1:]
    assert (
        op(
            "vault user", "revoke", "--vault", vault["id"], "--user", grant["user_id"], "--permissions", first
        ).returncode
        == 0
    )
    row = next(u for u in ok_json(op("vault user", "list", vault["id"])) if u["uuid"] == grant["user_id"])
    assert row["permissions"] == rest
    op("vault user", "revoke", "--vault", vault["id"], "--user", grant["user_id"], "--permissions", ",".join(rest))
    assert grant["user_id"] not in {u["uuid"] for u in ok_json(op("vault user", "list", vault["id"]))}


def test_service_account_cannot_revoke_on_a_vault_it_did_not_create(op: OpRunner, demo_data: dict[str, Any]) -> None:
    service_account = demo_data["tokens"][0]["user_id"]
    vault = next(v for v in demo_data["vaults"] if v["created_by"] != service_account and v["group_grants"])
    grant = vault["group_grants"][0]
    result = op(
        "vault group", "revoke", "--vault", vault["id"], "--group", grant["group_id"], "--permissions", "view_items"
    )
    assert result.returncode == 4
    assert b"(403) Forbidden" in result.stderr


def test_grant_changes_do_not_bump_content_version(op: OpRunner, demo_data: dict[str, Any]) -> None:
    service_account = demo_data["tokens"][0]["user_id"]
    vault = next(v for v in demo_data["vaults"] if v["created_by"] == service_account and v["group_grants"])
    op(
        "vault group",
        "revoke",
        "--vault",
        vault["id"],
        "--group",
        vault["group_grants"][0]["group_id"],
        "--permissions",
        "view_items",
    )
    assert ok_json(op("vault get", vault["id"]))["content_version"] == vault["content_version"]


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["vault get", "nosuchvault"], b'"nosuchvault" isn\'t a vault in this account.'),
        (["item list", "--vault", "nosuchvault"], b'"nosuchvault" isn\'t a vault in this account.'),
        (["item get", "nosuchitem"], b'"nosuchitem" isn\'t an item. Specify the item with its UUID, name, or domain.'),
        (["group user", "list", "NOSUCHGROUP"], b'"NOSUCHGROUP" isn\'t a group in this account.'),
    ],
)
def test_unknown_ids_fail_with_op_texts(op: OpRunner, args: list[str], text: bytes) -> None:
    result = op(*[part for arg in args for part in (arg.split() if " " in arg else [arg])])
    assert result.returncode == 1
    assert result.stderr.startswith(b"[ERROR] ")
    assert text in result.stderr


def test_unknown_item_in_a_vault_names_the_vault(op: OpRunner) -> None:
    vault = ok_json(op("vault list"))[0]
    result = op("item get", "nosuchitem", "--vault", vault["id"])
    assert f'isn\'t an item in the "{vault["name"]}" vault'.encode() in result.stderr


@pytest.mark.parametrize(
    ("token_index", "text"),
    [
        (None, b"account is not signed in"),
        ("garbage", b"DecodeSACCredentials"),
        ("ops_unknown", b"Service Account Deleted"),
        (1, b"Service Account Deleted"),
        (2, b"Service Account Deleted"),
    ],
)
def test_bad_tokens_fail_like_op(op: OpRunner, demo_data: dict[str, Any], token_index: Any, text: bytes) -> None:
    if isinstance(token_index, int):  # 1: expired, 2: revoked
        value: str | None = demo_data["tokens"][token_index]["token"]
    else:
        value = token_index
    result = op("whoami", env={"OP_SERVICE_ACCOUNT_TOKEN": value or ""})
    assert result.returncode == 1
    assert text in result.stderr
    assert result.stdout == b""


def test_call_log_records_each_call_without_the_token(op: OpRunner, tmp_path: Path, token: str) -> None:
    op("whoami")
    op("vault list")
    op("vault get", "nosuchvault")
    log = tmp_path / "calls.jsonl"
    entries = read_call_log(log)
    assert [e["command"] for e in entries] == ["whoami", "vault list", "vault get"]
    assert [e["exit_code"] for e in entries] == [0, 0, 1]
    assert count_calls(log, "vault list") == 1
    assert token not in log.read_text()


def test_a_token_passed_as_an_argument_is_redacted_in_the_log(op: OpRunner, tmp_path: Path, token: str) -> None:
    op("whoami", "--session", token)
    assert token not in (tmp_path / "calls.jsonl").read_text()


def test_changes_made_through_the_account_helpers_are_seen(op: OpRunner, account_file: Path) -> None:
    vault_id, items = _first_vault_with_items(op)
    account.rename_item(account_file, items[0]["id"], "Renamed Production Thing")
    new_id = account.add_item(
        account_file, {"vault_id": vault_id, "title": "Added Production Key", "category": "PASSWORD"}
    )
    listed = {i["id"]: i for i in ok_json(op("item list", "--vault", vault_id))}
    assert listed[items[0]["id"]]["title"] == "Renamed Production Thing"
    assert listed[items[0]["id"]]["version"] == items[0]["version"] + 1
    assert new_id in listed
    account.delete_vault(account_file, vault_id)
    assert op("item list", "--vault", vault_id).returncode == 1
