"""The `op` commands the fake implements. Each handler takes a Call and returns what op prints.

Reads see only the vaults the signed-in identity can access (directly or through a group), as a
service account does. Writes change the account dict in place; the caller saves it atomically.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vaults.fake_op import errors, render
from vaults.fake_op.account import (
    Account,
    find,
    new_item_id,
    secret_field,
    set_secret,
    touch_item,
    touch_vault,
)
from vaults.fake_op.knobs import CallState, env_int

Row = dict[str, Any]


@dataclass
class Call:
    data: Account
    user: Row
    args: list[str]
    flags: dict[str, str | bool]
    state: CallState
    extra: dict[str, Any] = field(default_factory=dict)

    def flag(self, name: str) -> str:
        value = self.flags.get(name)
        if not isinstance(value, str) or not value:
            raise errors.usage(f'required flag(s) "{name}" not set')
        return value

    def arg(self, what: str) -> str:
        if not self.args:
            raise errors.usage(f"expected {what}")
        return self.args[0]


# --- access and lookups --------------------------------------------------------------------------


def _group_ids(data: Account, user_id: str) -> set[str]:
    return {g["id"] for g in data["groups"] if any(m["user_id"] == user_id for m in g.get("members", []))}


# Members of these built-in groups (an administrator's session) can act on every vault.
_ADMIN_GROUP_TYPES = frozenset({"OWNERS", "ADMINISTRATORS"})


def can_access(data: Account, user: Row, vault: Row) -> bool:
    if any(g["user_id"] == user["id"] for g in vault.get("user_grants", [])):
        return True
    groups = _group_ids(data, user["id"])
    if any(g["id"] in groups and g.get("type") in _ADMIN_GROUP_TYPES for g in data["groups"]):
        return True
    return any(g["group_id"] in groups for g in vault.get("group_grants", []))


def _vault(call: Call, ref: str) -> Row:
    for vault in call.data["vaults"]:
        if ref in (vault["id"], vault["name"]) and can_access(call.data, call.user, vault):
            return vault
    raise errors.not_a_vault(ref)


def _item(call: Call, ref: str, vault_ref: str | None) -> Row:
    vaults = (
        [_vault(call, vault_ref)]
        if vault_ref
        else [v for v in call.data["vaults"] if can_access(call.data, call.user, v)]
    )
    vault_ids = {v["id"] for v in vaults}
    matches = [i for i in call.data["items"] if i["vault_id"] in vault_ids and i["id"] == ref]
    if not matches:
        matches = [i for i in call.data["items"] if i["vault_id"] in vault_ids and i["title"] == ref]
    if len(matches) > 1:
        names = {v["id"]: v["name"] for v in vaults}
        lines = "".join(
            f'\n\t* for the item "{i["title"]}" in vault {names[i["vault_id"]]}: {i["id"]}' for i in matches
        )
        raise errors.FakeOpError(
            f'More than one item matches "{ref}". Try again and specify the item by its ID: {lines}'
        )
    if not matches:
        raise errors.not_an_item(ref, vaults[0]["name"] if vault_ref else None)
    return matches[0]


def _user(call: Call, ref: str) -> Row:
    for user in call.data["users"]:
        if ref in (user["id"], user["email"], user["name"]):
            return user
    raise errors.not_a_user(ref)


def _group(call: Call, ref: str) -> Row:
    for group in call.data["groups"]:
        if ref in (group["id"], group["name"]):
            return group
    raise errors.not_a_group(ref)


def _item_counts(data: Account) -> dict[str, int]:
    if "item_counts" in data:  # a read-cache copy without items (account.load_for_read)
        return dict(data["item_counts"])
    counts: dict[str, int] = {}
    for item in data["items"]:
        if item.get("state", "ACTIVE") == "ACTIVE":
            counts[item["vault_id"]] = counts.get(item["vault_id"], 0) + 1
    return counts


# --- reads ---------------------------------------------------------------------------------------


def whoami(call: Call) -> Any:
    return render.whoami(call.data["account"], call.user)


def vault_list(call: Call) -> Any:
    counts = _item_counts(call.data)
    return [
        render.vault_summary(v, counts.get(v["id"], 0))
        for v in call.data["vaults"]
        if can_access(call.data, call.user, v)
    ]


def vault_get(call: Call) -> Any:
    vault = _vault(call, call.arg("a vault"))
    return render.vault_detail(vault, _item_counts(call.data).get(vault["id"], 0))


def item_list(call: Call) -> Any:
    vault = _vault(call, call.flag("vault"))
    include_archive = bool(call.flags.get("include-archive"))
    return [
        render.item_summary(item, vault)
        for item in call.data["items"]
        if item["vault_id"] == vault["id"] and (include_archive or item.get("state", "ACTIVE") == "ACTIVE")
    ]


def item_detail(call: Call, ref: str, vault_ref: str | None) -> Any:
    """One item as `item get` prints it (also each item of a batch `item get -`)."""
    item = _item(call, ref, vault_ref)
    vault = find(call.data["vaults"], item["vault_id"])
    assert vault is not None
    return render.item_detail(item, vault, reveal=bool(call.flags.get("reveal")))


def item_get(call: Call) -> Any:
    vault_ref = call.flags.get("vault")
    return item_detail(call, call.arg("an item"), vault_ref if isinstance(vault_ref, str) else None)


def user_list(call: Call) -> Any:
    return [render.user_summary(u) for u in call.data["users"]]


def group_list(call: Call) -> Any:
    return [render.group_summary(g) for g in call.data["groups"]]


def vault_user_list(call: Call) -> Any:
    vault = _vault(call, call.arg("a vault"))
    users = {u["id"]: u for u in call.data["users"]}
    return [
        render.vault_user(users[g["user_id"]], g["permissions"])
        for g in vault.get("user_grants", [])
        if g["user_id"] in users
    ]


def vault_group_list(call: Call) -> Any:
    vault = _vault(call, call.arg("a vault"))
    groups = {g["id"]: g for g in call.data["groups"]}
    return [
        render.vault_group(groups[g["group_id"]], g["permissions"])
        for g in vault.get("group_grants", [])
        if g["group_id"] in groups
    ]


def group_user_list(call: Call) -> Any:
    group = _group(call, call.arg("a group"))
    users = {u["id"]: u for u in call.data["users"]}
    return [
        render.group_member(users[m["user_id"]], m.get("role", "MEMBER"))
        for m in group.get("members", [])
        if m["user_id"] in users
    ]


def ratelimit(call: Call) -> Any:
    limits = {"token_read": 1000, "token_write": 100, "account_read_write": 1000, **call.data.get("rate_limits", {})}
    after = env_int("FAKE_OP_RATE_LIMIT_AFTER")
    state = call.state
    return render.ratelimit(
        [
            ("token", "write", limits["token_write"], state.window_writes, state.window_reset_in),
            (
                "token",
                "read",
                after if after is not None else limits["token_read"],
                state.window_reads,
                state.window_reset_in,
            ),
            ("account", "read_write", limits["account_read_write"], state.window_requests, state.window_reset_in),
        ]
    )


# --- writes --------------------------------------------------------------------------------------

_RECIPE_CHARSETS = {"letters": string.ascii_letters, "digits": string.digits, "symbols": "!@#$%^&*-_=+"}


def new_canary(length: int = 32) -> str:
    """A fresh unique secret shaped like the demo's canaries, so leak tests find it too."""
    import secrets

    tail = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(max(length - 24, 8)))
    return f"CANARY-{secrets.token_hex(8)}-{tail}"


def _recipe_length(recipe: str) -> int:
    for part in recipe.split(","):
        if part.strip().isdigit():
            return int(part)
    return 32


def item_edit(call: Call) -> Any:
    item = _item(call, call.arg("an item"), call.flag("vault"))
    if isinstance(call.flags.get("title"), str):
        item["title"] = call.flags["title"]
    if isinstance(call.flags.get("tags"), str):
        item["tags"] = [t.strip() for t in str(call.flags["tags"]).split(",") if t.strip()]
    if isinstance(call.flags.get("url"), str):
        item["urls"] = [{"label": "website", "primary": True, "href": call.flags["url"]}]
    if "generate-password" in call.flags:
        recipe = call.flags["generate-password"]
        if secret_field(item) is None:
            raise errors.usage("cannot generate a password: the item has no password field")
        set_secret(call.data, item, new_canary(_recipe_length(recipe if isinstance(recipe, str) else "")))
        field_row = secret_field(item)
        assert field_row is not None
        field_row.setdefault("password_details", {})["generated"] = True
    touch_item(call.data, item, editor=call.user["id"])
    vault = find(call.data["vaults"], item["vault_id"])
    assert vault is not None
    return render.item_detail(item, vault, reveal=False)


def item_move(call: Call) -> Any:
    item = _item(call, call.arg("an item"), call.flag("current-vault"))
    destination = _vault(call, call.flag("destination-vault"))
    source = find(call.data["vaults"], item["vault_id"])
    assert source is not None
    # Like real op, a move copies the item into the destination and deletes the original: the
    # item has a new id there.
    item["id"] = new_item_id()
    item["vault_id"] = destination["id"]
    touch_item(call.data, item, editor=call.user["id"])
    touch_vault(source, now=item["updated_at"])
    return render.item_detail(item, destination, reveal=False)


def item_delete(call: Call) -> Any:
    item = _item(call, call.arg("an item"), call.flag("vault"))
    if not call.flags.get("archive"):
        raise errors.usage(
            "fake op refuses to delete an item permanently: pass --archive (OpenClaw only ever archives items)"
        )
    item["state"] = "ARCHIVED"
    touch_item(call.data, item, editor=call.user["id"])
    return None


def _revoke(call: Call, grants_key: str, id_key: str, principal_id: str) -> Any:
    vault = _vault(call, call.flag("vault"))
    if call.user.get("type") == "SERVICE_ACCOUNT" and vault.get("created_by") != call.user["id"]:
        raise errors.forbidden_vault(vault["name"])
    revoked = {p.strip() for p in call.flag("permissions").split(",") if p.strip()}
    kept = []
    for grant in vault.get(grants_key, []):
        if grant[id_key] == principal_id:
            grant = {**grant, "permissions": [p for p in grant["permissions"] if p not in revoked]}
            if not grant["permissions"]:
                continue
        kept.append(grant)
    vault[grants_key] = kept
    vault["attribute_version"] = int(vault.get("attribute_version", 1)) + 1
    return None


def vault_user_revoke(call: Call) -> Any:
    return _revoke(call, "user_grants", "user_id", _user(call, call.flag("user"))["id"])


def vault_group_revoke(call: Call) -> Any:
    return _revoke(call, "group_grants", "group_id", _group(call, call.flag("group"))["id"])


def _manages_groups(call: Call, group: Row) -> bool:
    """Owners and administrators manage every group, a group's managers their own group; a
    service account none (1Password gives service accounts no group management)."""
    if call.user.get("type") == "SERVICE_ACCOUNT":
        return False
    mine = _group_ids(call.data, call.user["id"])
    if any(g["id"] in mine and g.get("type") in _ADMIN_GROUP_TYPES for g in call.data["groups"]):
        return True
    return any(m["user_id"] == call.user["id"] and m.get("role") == "MANAGER" for m in group.get("members", []))


def group_user_revoke(call: Call) -> Any:
    group = _group(call, call.flag("group"))
    user = _user(call, call.flag("user"))
    if not _manages_groups(call, group):
        raise errors.forbidden_group(group["name"])
    # A person who already left the group: nothing to remove, and the approved effect holds.
    group["members"] = [m for m in group.get("members", []) if m["user_id"] != user["id"]]
    return None


@dataclass(frozen=True)
class Command:
    handler: Callable[[Call], Any]
    is_write: bool = False
    needs_items: bool = False
    value_flags: frozenset[str] = frozenset()
    bool_flags: frozenset[str] = frozenset()


COMMANDS: dict[str, Command] = {
    "whoami": Command(whoami),
    "vault list": Command(vault_list),
    "vault get": Command(vault_get),
    "item list": Command(
        item_list,
        needs_items=True,
        value_flags=frozenset({"vault", "categories", "tags"}),
        bool_flags=frozenset({"include-archive"}),
    ),
    "item get": Command(
        item_get, needs_items=True, value_flags=frozenset({"vault", "fields"}), bool_flags=frozenset({"reveal"})
    ),
    "user list": Command(user_list),
    "group list": Command(group_list),
    "vault user list": Command(vault_user_list),
    "vault group list": Command(vault_group_list),
    "group user list": Command(group_user_list),
    "service-account ratelimit": Command(ratelimit),
    "item edit": Command(
        item_edit,
        is_write=True,
        value_flags=frozenset({"vault", "title", "tags", "url"}),
        bool_flags=frozenset({"generate-password"}),
    ),
    "item move": Command(item_move, is_write=True, value_flags=frozenset({"current-vault", "destination-vault"})),
    "item delete": Command(
        item_delete, is_write=True, value_flags=frozenset({"vault"}), bool_flags=frozenset({"archive"})
    ),
    "vault user revoke": Command(
        vault_user_revoke, is_write=True, value_flags=frozenset({"vault", "user", "permissions"})
    ),
    "vault group revoke": Command(
        vault_group_revoke, is_write=True, value_flags=frozenset({"vault", "group", "permissions"})
    ),
    "group user revoke": Command(group_user_revoke, is_write=True, value_flags=frozenset({"group", "user"})),
}
