"""The fake 1Password account: one JSON file, read and written under a lock.

File format (one JSON object; every timestamp is ISO 8601 UTC with a trailing `Z`):

```
{
  "format": "openclaw-fake-op/1",
  "account": {"id": "ACCOUNTUUID...", "name": "Acme Demo", "url": "https://acme-demo.1password.com"},
  "tokens": [                       # OP_SERVICE_ACCOUNT_TOKEN values op accepts
    {"token": "ops_...", "user_id": "<user id>", "expires_at": null | "<ts>", "revoked": false}
  ],
  "events_token": "<Bearer token of the Events API>",
  "rate_limits": {"token_read": 1000, "token_write": 100, "account_read_write": 1000},
  "users": [{"id", "name", "email", "type" (MEMBER|GUEST|SERVICE_ACCOUNT), "state" (as op
             prints it: ACTIVE|RECOVERY_STARTED|RECOVERY_ACCEPTED|SUSPENDED|TRANSFER_STARTED|
             TRANSFER_SUSPENDED|...), "created_at", "updated_at", "last_auth_at"}],
  "groups": [{"id", "name", "description", "state", "type", "created_at", "updated_at",
              "permissions": [...], "members": [{"user_id", "role" (MEMBER|MANAGER)}]}],
  "vaults": [{"id", "name", "description", "type" (USER_CREATED|PERSONAL|EVERYONE),
              "content_version", "attribute_version", "created_at", "updated_at",
              "created_by": "<user id>",            # the service account's id for vaults it made
              "user_grants": [{"user_id", "permissions": [op permission names]}],
              "group_grants": [{"group_id", "permissions": [...]}]}],
  "items": [{"id", "vault_id", "title", "category", "version", "state" (ACTIVE|ARCHIVED),
             "favorite", "tags", "created_at", "updated_at", "last_edited_by",
             "additional_information", "urls": [{"label", "primary", "href"}],
             "sections": [{"id", "label"}],
             "fields": [op-shaped fields WITHOUT "reference" (rendered from vault/item/field)],
             "files": [{"id", "name", "size", "section"?}]   # DOCUMENT files, attachments
            }],
  "events": {                       # compact; the Events API server expands them
    "itemusages": [{"uuid", "timestamp", "used_version", "vault_uuid", "item_uuid", "action",
                    "user_uuid", "client" (key of CLIENTS in events_server), "ip"}],
    "signinattempts": [{"uuid", "session_uuid", "timestamp", "category", "type", "country",
                        "details": null | {"value"}, "user_uuid", "client", "ip",
                        "older_shape": true?}],   # top-level country only, no `location`
    "auditevents": [{"uuid", "timestamp", "actor_uuid", "action", "object_type", "object_uuid",
                     "aux_info", "ip"}]
  },
  "canaries": [every strong secret value in the file],
  "weak_values": [the deliberately weak values],
  "planted": {"duplicate": [[item ids], ...], "unclear_name": [...], "orphaned": [...],
              "weak": [...], "missing_metadata": [...], "overdue_rotation": [...],
              "rotation_due_soon": [...], "expiring": [...],
              "shared_across_environments": [[item ids], ...], "over_permissioned": [user ids],
              "archived": [...], "hostile": [...], "break_glass_usages": [event uuids]}
}
```

Writers hold an exclusive `fcntl.flock` on `<file>.lock` and replace the file atomically (temp file
+ `os.replace`), so a reader never sees half a file and concurrent writers never lose an update;
readers hold a shared lock. The helpers below are what tests use to "change things in 1Password".
This module must not import Django: the fake `op` starts in a few milliseconds.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FORMAT = "openclaw-fake-op/1"
_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"

Account = dict[str, Any]


def utc_now() -> datetime:
    """Now, or FAKE_OP_NOW (ISO 8601) when set so tests can pin the clock."""
    pinned = os.environ.get("FAKE_OP_NOW")
    if pinned:
        return parse_ts(pinned)
    return datetime.now(UTC)


def format_ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ts(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def new_item_id() -> str:
    """A fresh op-style id (26 lower-case base32 characters), as items and vaults have."""
    # Imported here, like the other write-only modules below: the fake starts once per `op` call
    # and most calls only read (its start-up is part of bench/bench_sync.py's figures).
    import secrets

    return "".join(secrets.choice(_BASE32) for _ in range(26))


def lock_path(path: str | os.PathLike[str]) -> Path:
    return Path(f"{os.fspath(path)}.lock")


@contextlib.contextmanager
def file_lock(path: str | os.PathLike[str], *, exclusive: bool) -> Iterator[None]:
    with open(lock_path(path), "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read(path: str | os.PathLike[str]) -> Account:
    with open(path, "rb") as handle:
        return json.loads(handle.read())


def _write(path: str | os.PathLike[str], data: Account) -> None:
    import tempfile

    directory = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(prefix=".fake-op-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def load(path: str | os.PathLike[str]) -> Account:
    with file_lock(path, exclusive=False):
        return _read(path)


def save(path: str | os.PathLike[str], data: Account) -> None:
    with file_lock(path, exclusive=True):
        _write(path, data)


@contextlib.contextmanager
def locked_update(path: str | os.PathLike[str]) -> Iterator[Account]:
    """Read, let the caller change, and write back, all under one exclusive lock."""
    with file_lock(path, exclusive=True):
        data = _read(path)
        yield data
        _write(path, data)


# --- lookups -------------------------------------------------------------------------------------


def find(rows: list[dict[str, Any]], row_id: str) -> dict[str, Any] | None:
    for row in rows:
        if row["id"] == row_id:
            return row
    return None


def vault_of(data: Account, item: dict[str, Any]) -> dict[str, Any]:
    vault = find(data["vaults"], item["vault_id"])
    assert vault is not None, f"item {item['id']} points at a missing vault"
    return vault


def secret_field(item: dict[str, Any]) -> dict[str, Any] | None:
    """The field whose value is the item's main secret: the PASSWORD-purpose field, else the
    first CONCEALED one, else the SSH private key."""
    fields = item.get("fields", [])
    for field in fields:
        if field.get("purpose") == "PASSWORD":
            return field
    for wanted in ("CONCEALED", "SSHKEY"):
        for field in fields:
            if field.get("type") == wanted:
                return field
    return None


# --- changes (each bumps what real 1Password bumps) ----------------------------------------------


def touch_item(data: Account, item: dict[str, Any], *, editor: str | None = None) -> None:
    """Record one write to an item: its version and updated_at, and its vault's content_version."""
    now = format_ts(utc_now())
    item["version"] = int(item.get("version", 0)) + 1
    item["updated_at"] = now
    if editor:
        item["last_edited_by"] = editor
    touch_vault(vault_of(data, item), now=now)


def touch_vault(vault: dict[str, Any], *, now: str | None = None) -> None:
    vault["content_version"] = int(vault.get("content_version", 0)) + 1
    vault["updated_at"] = now or format_ts(utc_now())


def set_secret(data: Account, item: dict[str, Any], new_value: str, *, strength: str = "FANTASTIC") -> None:
    """Replace the item's main secret, keeping the old one in password_details.history."""
    field = secret_field(item)
    if field is None:
        raise ValueError(f"item {item['id']} has no secret field")
    old = field.get("value")
    field["value"] = new_value
    if field.get("type") == "CONCEALED":
        details = field.setdefault("password_details", {})
        details["strength"] = strength
        if old:
            details["history"] = [old, *details.get("history", [])]
    data.setdefault("canaries", []).append(new_value)


def _item(data: Account, item_id: str) -> dict[str, Any]:
    item = find(data["items"], item_id)
    if item is None:
        raise KeyError(f"no item {item_id}")
    return item


def edit_item_value(path: str | os.PathLike[str], item_id: str, new_value: str) -> None:
    with locked_update(path) as data:
        item = _item(data, item_id)
        set_secret(data, item, new_value)
        touch_item(data, item)


def rename_item(path: str | os.PathLike[str], item_id: str, title: str) -> None:
    with locked_update(path) as data:
        item = _item(data, item_id)
        item["title"] = title
        touch_item(data, item)


def archive_item(path: str | os.PathLike[str], item_id: str) -> None:
    with locked_update(path) as data:
        item = _item(data, item_id)
        item["state"] = "ARCHIVED"
        touch_item(data, item)


def remove_item(path: str | os.PathLike[str], item_id: str) -> None:
    """Delete an item for good (someone did it in the 1Password app)."""
    with locked_update(path) as data:
        item = _item(data, item_id)
        data["items"].remove(item)
        touch_vault(vault_of(data, item))


def add_item(path: str | os.PathLike[str], item: dict[str, Any]) -> str:
    """Add an op-shaped item (needs at least vault_id, title, category); returns its id."""
    now = format_ts(utc_now())
    row = {
        "id": new_item_id(),
        "version": 1,
        "state": "ACTIVE",
        "favorite": False,
        "tags": [],
        "created_at": now,
        "updated_at": now,
        "last_edited_by": "",
        "additional_information": "",
        "urls": [],
        "sections": [],
        "fields": [],
        **item,
    }
    with locked_update(path) as data:
        vault = find(data["vaults"], row["vault_id"])
        if vault is None:
            raise KeyError(f"no vault {row['vault_id']}")
        data["items"].append(row)
        touch_vault(vault, now=now)
    return str(row["id"])


def delete_vault(path: str | os.PathLike[str], vault_id: str) -> None:
    """Delete a vault with its items (as when an admin deletes it mid-sync)."""
    with locked_update(path) as data:
        vault = find(data["vaults"], vault_id)
        if vault is None:
            raise KeyError(f"no vault {vault_id}")
        data["vaults"].remove(vault)
        data["items"] = [item for item in data["items"] if item["vault_id"] != vault_id]


def set_user_state(path: str | os.PathLike[str], user_id: str, state: str) -> None:
    with locked_update(path) as data:
        user = find(data["users"], user_id)
        if user is None:
            raise KeyError(f"no user {user_id}")
        user["state"] = state
        user["updated_at"] = format_ts(utc_now())


def set_user_grant(path: str | os.PathLike[str], vault_id: str, user_id: str, permissions: list[str]) -> None:
    """Give (or with [] remove) a user's direct grant on a vault."""
    with locked_update(path) as data:
        vault = find(data["vaults"], vault_id)
        if vault is None:
            raise KeyError(f"no vault {vault_id}")
        grants = [g for g in vault["user_grants"] if g["user_id"] != user_id]
        if permissions:
            grants.append({"user_id": user_id, "permissions": list(permissions)})
        vault["user_grants"] = grants


def remove_group_member(path: str | os.PathLike[str], group_id: str, user_id: str) -> None:
    """An administrator removes a person from a group in 1Password."""
    with locked_update(path) as data:
        group = find(data["groups"], group_id)
        if group is None:
            raise KeyError(f"no group {group_id}")
        group["members"] = [m for m in group.get("members", []) if m["user_id"] != user_id]


def revoke_token(path: str | os.PathLike[str], token: str) -> None:
    with locked_update(path) as data:
        for row in data["tokens"]:
            if row["token"] == token:
                row["revoked"] = True


def add_event(path: str | os.PathLike[str], feed: str, event: dict[str, Any]) -> None:
    """Append one compact event (see the format above) to `itemusages`, `signinattempts` or
    `auditevents`."""
    with locked_update(path) as data:
        data.setdefault("events", {}).setdefault(feed, []).append(event)


# --- read cache: the big file split per vault -----------------------------------------------------
#
# Measured on a 20,000-item account (35 MB): loading the whole file costs ~600 ms per `op` call, so
# a sync's thousands of `item get` calls would take hours. Readers therefore use a split copy of the
# file, `<file>.cache/<mtime>-<size>-<inode>/`: meta.json (everything but items and events, plus
# active item counts per vault) and one items-<vault id>.json per vault. Any change to the file
# (always an atomic replace) gives a new key, so a stale copy is never read.


def _cache_dir(path: str | os.PathLike[str]) -> Path:
    stat = os.stat(path)
    return Path(f"{os.fspath(path)}.cache") / f"{stat.st_mtime_ns}-{stat.st_size}-{stat.st_ino}"


def _build_cache(path: str | os.PathLike[str], target: Path) -> None:
    import shutil
    import tempfile

    data = _read(path)
    by_vault: dict[str, list[dict[str, Any]]] = {v["id"]: [] for v in data["vaults"]}
    counts: dict[str, int] = {}
    for item in data["items"]:
        by_vault.setdefault(item["vault_id"], []).append(item)
        if item.get("state", "ACTIVE") == "ACTIVE":
            counts[item["vault_id"]] = counts.get(item["vault_id"], 0) + 1
    meta = {key: value for key, value in data.items() if key not in ("items", "events")}
    meta["item_counts"] = counts
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=".build-", dir=target.parent))
    (temp / "meta.json").write_text(json.dumps(meta, separators=(",", ":")))
    for vault_id, items in by_vault.items():
        (temp / f"items-{vault_id}.json").write_text(json.dumps(items, separators=(",", ":")))
    try:
        os.rename(temp, target)
    except OSError:  # another reader built it first
        shutil.rmtree(temp, ignore_errors=True)
    for stale in target.parent.iterdir():
        if stale != target and not stale.name.startswith(".build-"):
            shutil.rmtree(stale, ignore_errors=True)


def load_for_read(path: str | os.PathLike[str], *, vault_ref: str | None, need_items: bool) -> Account:
    """The account for one read command, loading as little as it needs (see above).

    Without `need_items` the result has no items (`item_counts` gives the counts); with a
    `vault_ref` only that vault's items are loaded; otherwise every vault's items are.
    """
    with file_lock(path, exclusive=False):
        target = _cache_dir(path)
        if not (target / "meta.json").exists():
            _build_cache(path, target)
        data: Account = json.loads((target / "meta.json").read_text())
        data["items"] = []
        if not need_items:
            return data
        vault_ids = [v["id"] for v in data["vaults"] if vault_ref is None or vault_ref in (v["id"], v["name"])]
        for vault_id in vault_ids:
            items_file = target / f"items-{vault_id}.json"
            if items_file.exists():
                data["items"].extend(json.loads(items_file.read_text()))
        return data
