"""Builders for every `op` command OpenClaw runs: argv lists (never shell strings) plus their cost.

Why a builder: one place decides the exact argv, so that
1. every id is validated before use (an op id is 26 letters/digits; a hostile value can never
   start with `-` and become a flag),
2. free text (titles, tags, URLs) is passed as `--flag=value` in a single argv element, which op's
   flag parser never reads as another flag or as an `item edit` assignment statement,
3. deleting an item without `--archive` cannot be expressed at all,
4. every command carries the number of API requests it costs, so the sync can count its budget.

Request costs: 1Password documents that some CLI commands make more than one request, and that
looking objects up by ID is cheapest. The costs below are the documented ones where known
(`item get` by ID with `--vault <id>`: 1; `item list --vault`: 1 + 1 per vault = 2; `item edit`:
5 reads + 1 write) and otherwise a conservative estimate (marked "estimate"): overcounting makes a
sync stop early, undercounting makes it hit the rate limit. A batch `item get -` of N items
costs N (each item is still one read by ID; the batch saves processes and sign-ins, not requests).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from vaults.op.errors import OpHiddenCharacters, OpInvalidArgument
from vaults.op.hidden_characters import hidden_code_points
from vaults.op.url_redaction import has_credentials

FORMAT_JSON = ("--format", "json")

# op ids are 26 characters of base32 ([a-z2-7], users upper-case); we accept any 26 letters or
# digits. Anything starting with "-" or holding spaces, "=" or "," is refused.
_OP_ID = re.compile(r"[A-Za-z0-9]{26}")
_PERMISSION = re.compile(r"[a-z][a-z_]{1,63}")
_PASSWORD_RECIPE = re.compile(r"(?:letters|digits|symbols)(?:,(?:letters|digits|symbols))*,\d{1,3}")
# Titles are free text but bounded: 1Password's own UI limits are far below this, and a 10 kB
# "title" is a hostile input we refuse rather than pass to op.
MAX_TITLE_CHARS = 1000
MAX_TAG_CHARS = 200


@dataclass(frozen=True, slots=True)
class OpCommand:
    """One op invocation: `args` go after the executable; `ids` are logged, values never."""

    name: str  # "item get": used in logs and error messages
    args: tuple[str, ...]
    reads: int
    writes: int
    ids: tuple[str, ...] = ()
    # Bytes for op's standard input (`item get -` reads the items to fetch there); None: nothing.
    stdin: bytes | None = None
    # A batch read: op may fail some items and still print the others. The caller compares what
    # came back with what it asked for, so a per-item failure must not discard the rest.
    partial_output: bool = False

    @property
    def request_cost(self) -> int:
        return self.reads + self.writes

    @property
    def is_write(self) -> bool:
        return self.writes > 0

    def argv(self, op_bin: str) -> list[str]:
        return [op_bin, *self.args]


def validate_id(value: str, *, what: str) -> str:
    """`value` if it is an op id, else OpInvalidArgument (the value is not echoed: it may be junk
    from anywhere)."""
    if not isinstance(value, str) or not _OP_ID.fullmatch(value):
        raise OpInvalidArgument(f"{what} id is not an op id (26 letters or digits); refusing to run op")
    return value


def _free_text(value: str, *, what: str, max_chars: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise OpInvalidArgument(f"{what} must be non-empty text")
    if len(value) > max_chars:
        raise OpInvalidArgument(f"{what} is longer than {max_chars} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise OpInvalidArgument(f"{what} contains control characters")
    # Bidi controls and invisible characters make the approved text read differently from the
    # text op receives (issue #14); the code points are named, the value is not echoed.
    if hidden := hidden_code_points(value):
        raise OpHiddenCharacters(
            f"{what} contains hidden or right-to-left control characters ({', '.join(hidden)}); refusing to run op",
            code_points=hidden,
        )
    return value


def _command(name: str, *args: str, reads: int, writes: int = 0, ids: Iterable[str] = ()) -> OpCommand:
    return OpCommand(name=name, args=(*FORMAT_JSON, *args), reads=reads, writes=writes, ids=tuple(ids))


# --- reads ------------------------------------------------------------------------------------


def whoami() -> OpCommand:
    return _command("whoami", "whoami", reads=1)  # estimate


def vault_list() -> OpCommand:
    return _command("vault list", "vault", "list", reads=1)  # estimate


def vault_get(vault_id: str) -> OpCommand:
    v = validate_id(vault_id, what="vault")
    return _command("vault get", "vault", "get", v, reads=1, ids=(v,))  # estimate (by ID)


def item_list(vault_id: str, *, include_archive: bool = False) -> OpCommand:
    v = validate_id(vault_id, what="vault")
    archive = ("--include-archive",) if include_archive else ()
    # Documented: 1 request + 1 per vault listed.
    return _command("item list", "item", "list", "--vault", v, *archive, reads=2, ids=(v,))


def item_get(item_id: str, vault_id: str) -> OpCommand:
    """`--reveal`: since op 2.25 concealed values are hidden in output without it, and we need
    them (inside this package only) to fingerprint."""
    i = validate_id(item_id, what="item")
    v = validate_id(vault_id, what="vault")
    # Documented: 1 request by item ID with `--vault <vault ID>` (3 when looked up by name).
    return _command("item get", "item", "get", i, "--vault", v, "--reveal", reads=1, ids=(v, i))


def item_get_batch(item_ids: Sequence[str], vault_id: str) -> OpCommand:
    """`op item get - --vault V --reveal`: op reads the items from stdin, in the shape
    `op item list --format json` prints ({"id", "vault": {"id"}}), and prints each item's JSON
    one after another. One process, one sign-in; still one request per item."""
    v = validate_id(vault_id, what="vault")
    ids = tuple(dict.fromkeys(validate_id(i, what="item") for i in item_ids))
    if not ids:
        raise OpInvalidArgument("a batch read needs at least one item")
    stdin = json.dumps([{"id": i, "vault": {"id": v}} for i in ids]).encode()
    return OpCommand(
        name="item get", args=(*FORMAT_JSON, "item", "get", "-", "--vault", v, "--reveal"),
        reads=len(ids), writes=0, ids=(v, *ids), stdin=stdin, partial_output=True,
    )  # fmt: skip


def user_list() -> OpCommand:
    return _command("user list", "user", "list", reads=1)  # estimate


def group_list() -> OpCommand:
    return _command("group list", "group", "list", reads=1)  # estimate


def vault_user_list(vault_id: str) -> OpCommand:
    v = validate_id(vault_id, what="vault")
    return _command("vault user list", "vault", "user", "list", v, reads=2, ids=(v,))  # estimate


def vault_group_list(vault_id: str) -> OpCommand:
    v = validate_id(vault_id, what="vault")
    return _command("vault group list", "vault", "group", "list", v, reads=2, ids=(v,))  # estimate


def group_user_list(group_id: str) -> OpCommand:
    g = validate_id(group_id, what="group")
    return _command("group user list", "group", "user", "list", g, reads=2, ids=(g,))  # estimate


def service_account_ratelimit() -> OpCommand:
    return _command("service-account ratelimit", "service-account", "ratelimit", reads=1)  # estimate


# --- writes (used only by approved cleanup actions) -------------------------------------------


def _item_edit(item_id: str, vault_id: str, flag: str, what: str) -> OpCommand:
    i = validate_id(item_id, what="item")
    v = validate_id(vault_id, what="vault")
    # Documented: 5 reads + 1 write.
    return _command(f"item edit {what}", "item", "edit", i, "--vault", v, flag, reads=5, writes=1, ids=(v, i))


def item_edit_title(item_id: str, vault_id: str, title: str) -> OpCommand:
    t = _free_text(title, what="title", max_chars=MAX_TITLE_CHARS)
    return _item_edit(item_id, vault_id, f"--title={t}", "title")


def normalise_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Tags as op stores them: stripped, de-duplicated, order kept. A comma would split a tag in
    op's list flag, so it is refused rather than silently turned into two tags."""
    result: list[str] = []
    for tag in tags:
        t = _free_text(tag, what="tag", max_chars=MAX_TAG_CHARS).strip()
        if "," in t or '"' in t:
            raise OpInvalidArgument("a tag may not contain a comma or a double quote")
        if t not in result:
            result.append(t)
    return tuple(result)


def item_edit_tags(item_id: str, vault_id: str, tags: Iterable[str]) -> OpCommand:
    """Replaces the item's tags with `tags` (an empty list clears them)."""
    return _item_edit(item_id, vault_id, "--tags=" + ",".join(normalise_tags(tags)), "tags")


def item_edit_url(item_id: str, vault_id: str, url: str) -> OpCommand:
    u = _free_text(url, what="url", max_chars=MAX_TITLE_CHARS)
    if any(c.isspace() for c in u):
        raise OpInvalidArgument("url contains whitespace")
    if has_credentials(u):
        # The URL would be stored in 1Password, in the plan and in the audit log (issue #14).
        raise OpInvalidArgument("url contains a user name, password or secret-looking parameter; remove it first")
    return _item_edit(item_id, vault_id, f"--url={u}", "url")


def item_generate_password(item_id: str, vault_id: str, recipe: str = "letters,digits,symbols,32") -> OpCommand:
    if not _PASSWORD_RECIPE.fullmatch(recipe) or not 12 <= int(recipe.rsplit(",", 1)[1]) <= 128:
        raise OpInvalidArgument("password recipe must be letters/digits/symbols and a length of 12-128")
    return _item_edit(item_id, vault_id, f"--generate-password={recipe}", "password")


def item_move(item_id: str, *, current_vault_id: str, destination_vault_id: str) -> OpCommand:
    """op re-creates the item in the destination (new ID) and deletes the original."""
    i = validate_id(item_id, what="item")
    src = validate_id(current_vault_id, what="current vault")
    dst = validate_id(destination_vault_id, what="destination vault")
    if src == dst:
        raise OpInvalidArgument("destination vault is the current vault")
    return _command(
        "item move",
        "item", "move", i, "--current-vault", src, "--destination-vault", dst,
        reads=5, writes=2, ids=(src, i, dst),  # estimate: read + create + delete
    )  # fmt: skip


def item_archive(item_id: str, vault_id: str) -> OpCommand:
    """`op item delete --archive`: the item goes to Archive, recoverable. There is deliberately no
    builder for a delete without `--archive`."""
    i = validate_id(item_id, what="item")
    v = validate_id(vault_id, what="vault")
    return _command(
        "item archive", "item", "delete", i, "--vault", v, "--archive", reads=3, writes=1, ids=(v, i)
    )  # estimate


def _permissions_arg(permissions: Iterable[str]) -> str:
    perms = []
    for p in permissions:
        if not isinstance(p, str) or not _PERMISSION.fullmatch(p):
            raise OpInvalidArgument("a permission name must be lower-case letters and underscores")
        if p not in perms:
            perms.append(p)
    if not perms:
        raise OpInvalidArgument("at least one permission is required")
    return ",".join(perms)


def _vault_revoke(grantee: Literal["user", "group"], vault_id: str, grantee_id: str, permissions: Iterable[str]) -> OpCommand:
    """`op vault user revoke` and `op vault group revoke` differ only in who loses the permissions."""
    v = validate_id(vault_id, what="vault")
    g = validate_id(grantee_id, what=grantee)
    perms = _permissions_arg(permissions)
    return _command(
        f"vault {grantee} revoke",
        "vault", grantee, "revoke", "--vault", v, f"--{grantee}", g, "--permissions", perms,
        reads=2, writes=1, ids=(v, g),  # estimate
    )  # fmt: skip


def vault_user_revoke(vault_id: str, user_id: str, permissions: Iterable[str]) -> OpCommand:
    return _vault_revoke("user", vault_id, user_id, permissions)


def vault_group_revoke(vault_id: str, group_id: str, permissions: Iterable[str]) -> OpCommand:
    return _vault_revoke("group", vault_id, group_id, permissions)


def group_user_revoke(group_id: str, user_id: str) -> OpCommand:
    """`op group user revoke`: the person leaves the group (and every vault it reaches through it).
    Needs an owner, administrator or the group's manager: a service account cannot manage groups."""
    g = validate_id(group_id, what="group")
    u = validate_id(user_id, what="user")
    return _command(
        "group user revoke", "group", "user", "revoke", "--group", g, "--user", u, reads=2, writes=1, ids=(g, u)
    )  # estimate: look both up, then one write
