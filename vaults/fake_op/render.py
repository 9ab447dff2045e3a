"""Turn account-file rows into the JSON `op` 2.x prints, key for key and in op's key order.

Shapes follow ../shared/op-samples (see the file named in each function's docstring).
"""

from __future__ import annotations

import json
from typing import Any

Row = dict[str, Any]

# Field types whose value op ≥ 2.25 leaves out of `item get` unless `--reveal` is given.
CONCEALED_TYPES = frozenset({"CONCEALED", "SSHKEY", "OTP"})


def dumps(payload: Any) -> str:
    """op pretty-prints JSON with two-space indentation and leaves non-ASCII as is."""
    return json.dumps(payload, indent=2, ensure_ascii=False)


def whoami(account: Row, user: Row) -> Row:
    """whoami_1pexporter_service-account.json (op 2.30)."""
    url = account["url"]
    if user.get("type") == "SERVICE_ACCOUNT":
        return {
            "url": url,
            "URL": url,
            "user_uuid": user["id"],
            "account_uuid": account["id"],
            "user_type": "SERVICE_ACCOUNT",
            "ServiceAccountType": "SERVICE_ACCOUNT",
        }
    return {"url": url, "email": user["email"], "user_uuid": user["id"], "account_uuid": account["id"]}


def vault_summary(vault: Row, item_count: int) -> Row:
    """vault-list_1pexporter_service-account.json."""
    return {
        "id": vault["id"],
        "name": vault["name"],
        "content_version": vault["content_version"],
        "created_at": vault["created_at"],
        "updated_at": vault["updated_at"],
        "items": item_count,
    }


def vault_detail(vault: Row, item_count: int) -> Row:
    """vault-get_pyop_test-data.json."""
    out: Row = {"id": vault["id"], "name": vault["name"], "content_version": vault["content_version"]}
    if vault.get("description"):
        out["description"] = vault["description"]
    out["attribute_version"] = vault.get("attribute_version", 1)
    out["items"] = item_count
    out["type"] = vault.get("type", "USER_CREATED")
    out["created_at"] = vault["created_at"]
    out["updated_at"] = vault["updated_at"]
    return out


def _item_head(item: Row, vault: Row) -> Row:
    out: Row = {"id": item["id"], "title": item["title"]}
    if item.get("favorite"):
        out["favorite"] = True
    if item.get("tags"):
        out["tags"] = list(item["tags"])
    out["version"] = item["version"]
    if item.get("state", "ACTIVE") != "ACTIVE":
        out["state"] = item["state"]
    out["vault"] = {"id": vault["id"], "name": vault["name"]}
    out["category"] = item["category"]
    out["last_edited_by"] = item.get("last_edited_by", "")
    out["created_at"] = item["created_at"]
    out["updated_at"] = item["updated_at"]
    if item.get("additional_information"):
        out["additional_information"] = item["additional_information"]
    if item.get("urls"):
        out["urls"] = [dict(url) for url in item["urls"]]
    return out


def item_summary(item: Row, vault: Row) -> Row:
    """item-list-include-archive_1pexporter.json."""
    return _item_head(item, vault)


def _reference(vault: Row, item: Row, field: Row) -> str:
    section = field.get("section") or {}
    parts = [vault["name"], item["title"]]
    if section.get("label") or section.get("id"):
        parts.append(section.get("label") or section["id"])
    parts.append(field.get("label") or field["id"])
    return "op://" + "/".join(parts)


def _field(vault: Row, item: Row, field: Row, *, reveal: bool) -> Row:
    """One field as in item-get_pyop_login-password-history.json; without `reveal` a concealed
    value (and its password history) is left out, as op ≥ 2.25 does."""
    concealed = field.get("type") in CONCEALED_TYPES
    out: Row = {"id": field["id"]}
    if field.get("section"):
        out["section"] = dict(field["section"])
    out["type"] = field["type"]
    if field.get("purpose"):
        out["purpose"] = field["purpose"]
    out["label"] = field.get("label", field["id"])
    if field.get("value") not in (None, "") and (reveal or not concealed):
        out["value"] = field["value"]
    if field.get("entropy") is not None:
        out["entropy"] = field["entropy"]
    out["reference"] = _reference(vault, item, field)
    details = field.get("password_details")
    if details:
        shown = {key: value for key, value in details.items() if key != "history"}
        if reveal and details.get("history"):
            shown["history"] = list(details["history"])
        out["password_details"] = shown
    if field.get("totp") and reveal:
        out["totp"] = field["totp"]
    return out


def item_detail(item: Row, vault: Row, *, reveal: bool) -> Row:
    """item-get_pyop_server.json: the list head, then sections, then fields, then `files` (a
    DOCUMENT's file, or attachments) as op 2.x prints them, with the path a download would use."""
    out = _item_head(item, vault)
    if item.get("sections"):
        out["sections"] = [dict(section) for section in item["sections"]]
    out["fields"] = [_field(vault, item, field, reveal=reveal) for field in item.get("fields", [])]
    if item.get("files"):
        out["files"] = [_file(vault, item, file) for file in item["files"]]
    return out


def _file(vault: Row, item: Row, file: Row) -> Row:
    out: Row = {"id": file["id"], "name": file["name"], "size": file["size"]}
    if file.get("section"):
        out["section"] = dict(file["section"])
    out["content_path"] = f"/v1/vaults/{vault['id']}/items/{item['id']}/files/{file['id']}/content"
    return out


def user_summary(user: Row) -> Row:
    """user-list_pyop_all.json."""
    return {key: user[key] for key in ("id", "name", "email", "type", "state")}


def group_summary(group: Row) -> Row:
    """group-list_pyop_all.json."""
    return {key: group[key] for key in ("id", "name", "description", "state", "created_at")}


def vault_user(user: Row, permissions: list[str]) -> Row:
    """vault-user-list_blog-kenzauros_2.6.0.json (op keys the id as `uuid` here)."""
    return {
        "uuid": user["id"],
        "name": user["name"],
        "email": user["email"],
        "type": user["type"],
        "state": user["state"],
        "permissions": list(permissions),
    }


def vault_group(group: Row, permissions: list[str]) -> Row:
    """group-list-vault_pyop_test-data.json plus the grant's permissions."""
    return {**group_summary(group), "permissions": list(permissions)}


def group_member(user: Row, role: str) -> Row:
    """user-list-group_pyop_owners.json."""
    return {**user_summary(user), "role": role}


def ratelimit(rows: list[tuple[str, str, int, int, int]]) -> list[Row]:
    """service-account-ratelimit_1pexporter.json: (type, action, limit, used, reset) rows."""
    return [
        {
            "type": kind,
            "action": action,
            "limit": limit,
            "used": used,
            "remaining": max(limit - used, 0),
            "reset": reset,
        }
        for kind, action, limit, used, reset in rows
    ]
