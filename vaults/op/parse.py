"""Pure parsers from `op --format json` output (bytes) to records.

Rules every parser follows:
1. Decode strictly as UTF-8 and load JSON; anything else is `OpMalformedOutput`.
2. Unknown keys are ignored; missing optional keys get neutral defaults; keys renamed across op
   versions are read under every known name (`id`/`uuid`, `user_uuid`/`user_id`, `URL`/`url`).
3. Only ids are required. A wrong JSON type where we read a key is `OpMalformedOutput`.
4. Exception messages name the command, the position (`item [3]`) and the key, never a value:
   the input may hold secret values. Exceptions are raised outside `except` blocks so no decoder
   error (whose `.doc`/`.object` holds the whole input) is chained onto them.

For list commands, empty stdout and JSON `null` mean "no rows": op (a Go program) prints a nil
list as `null`, and some versions print nothing at all for an empty result.
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from vaults.op.errors import OpMalformedOutput
from vaults.op.fingerprint import KnownScores, fingerprint, secret_facts
from vaults.op.records import (
    FieldRecord,
    FileRecord,
    GroupMember,
    GroupRecord,
    ItemDetail,
    ItemSummary,
    RateLimitRow,
    SecretFacts,
    UrlRecord,
    UserRecord,
    VaultGroupGrant,
    VaultRecord,
    VaultUserGrant,
    WhoAmI,
)
from vaults.op.url_redaction import redact_url

T = TypeVar("T")
JsonObject = Mapping[str, Any]

# Field types whose value is a secret we fingerprint. OTP seeds are never kept at all.
FINGERPRINTED_FIELD_TYPES = frozenset({"CONCEALED", "SSHKEY"})
NOTES_PURPOSE = "NOTES"
USERNAME_PURPOSE = "USERNAME"


# --- loading ----------------------------------------------------------------------------------


def _load(raw: bytes | str, command: str) -> Any:
    """UTF-8 + JSON, raising OpMalformedOutput without chaining the decoder's exception."""
    problem: str | None = None
    text = ""
    if isinstance(raw, str):
        text = raw
    else:
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as exc:
            problem = f"is not valid UTF-8 (first bad byte at offset {exc.start})"
    if problem is not None:
        raise OpMalformedOutput(f"`op {command}` printed output that {problem}")
    if not text.strip():
        return _EMPTY
    data: Any = None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        problem = f"is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
    except (ValueError, RecursionError):
        problem = "is not JSON this parser accepts (too deeply nested or a number out of range)"
    if problem is not None:
        raise OpMalformedOutput(f"`op {command}` printed output that {problem}")
    return data


class _Empty:
    """Marker for blank stdout (distinct from JSON null)."""


_EMPTY = _Empty()


def _malformed(command: str, what: str) -> OpMalformedOutput:
    return OpMalformedOutput(f"`op {command}` printed unexpected JSON: {what}")


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "text", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, int | float) else type(value).__name__
    )


def _object(data: Any, command: str, where: str) -> JsonObject:
    if not isinstance(data, dict):
        raise _malformed(command, f"{where} is {_type_name(data)}, expected an object")
    return data


def _list_rows(data: Any, command: str) -> list[Any]:
    if data is _EMPTY or data is None:
        return []
    if not isinstance(data, list):
        raise _malformed(command, f"the top level is {_type_name(data)}, expected a list")
    return data


def _single(data: Any, command: str) -> JsonObject:
    if data is _EMPTY:
        raise OpMalformedOutput(f"`op {command}` printed nothing, expected a JSON object")
    return _object(data, command, "the top level")


def _rows(data: Any, command: str, label: str, build: Callable[[JsonObject, str], T]) -> tuple[T, ...]:
    rows = _list_rows(data, command)
    return tuple(build(_object(row, command, f"{label} [{i}]"), f"{label} [{i}]") for i, row in enumerate(rows))


# --- typed readers (value never quoted in errors) --------------------------------------------


class _Reader:
    """Reads keys of one JSON object with the command and position used in error messages."""

    def __init__(self, obj: JsonObject, command: str, where: str) -> None:
        self.obj = obj
        self.command = command
        self.where = where

    def _first(self, keys: tuple[str, ...]) -> tuple[str, Any]:
        for key in keys:
            if self.obj.get(key) is not None:
                return key, self.obj[key]
        return keys[0], None

    def text(self, *keys: str) -> str:
        key, value = self._first(keys)
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise _malformed(self.command, f"'{key}' of {self.where} is {_type_name(value)}, expected text")
        return str(value)

    def required_id(self, *keys: str) -> str:
        key, value = self._first(keys)
        if value is None:
            raise _malformed(self.command, f"{self.where} has no '{key}'")
        if not isinstance(value, str) or not value.strip():
            raise _malformed(self.command, f"'{key}' of {self.where} is {_type_name(value)}, expected a non-empty id")
        return value

    def optional_id(self, *keys: str) -> str | None:
        value = self.text(*keys)
        return value or None

    def integer(self, *keys: str) -> int | None:
        key, value = self._first(keys)
        if value is None:
            return None
        if isinstance(value, bool):
            raise _malformed(self.command, f"'{key}' of {self.where} is a boolean, expected a number")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"-?\d{1,18}", value.strip()):
            return int(value)
        raise _malformed(self.command, f"'{key}' of {self.where} is {_type_name(value)}, expected a whole number")

    def boolean(self, *keys: str) -> bool:
        key, value = self._first(keys)
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise _malformed(self.command, f"'{key}' of {self.where} is {_type_name(value)}, expected true/false")

    def strings(self, *keys: str) -> tuple[str, ...]:
        key, value = self._first(keys)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _malformed(self.command, f"'{key}' of {self.where} is not a list of text")
        return tuple(value)

    def child(self, key: str) -> _Reader | None:
        value = self.obj.get(key)
        if value is None:
            return None
        return _Reader(_object(value, self.command, f"'{key}' of {self.where}"), self.command, f"{key} of {self.where}")

    def timestamp(self, *keys: str) -> datetime | None:
        key, value = self._first(keys)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise _malformed(self.command, f"'{key}' of {self.where} is {_type_name(value)}, expected a timestamp")
        return parse_timestamp(value)


def parse_timestamp(value: str | int | float) -> datetime | None:
    """RFC 3339 (Z or offset, any fractional digits) or unix seconds → aware datetime.

    An unreadable string is None rather than an error: a timestamp in a new format must not
    stop a whole vault from syncing.
    """
    try:
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value, tz=UTC)
        text = value.strip()
        if re.fullmatch(r"-?\d{1,12}", text):
            return datetime.fromtimestamp(int(text), tz=UTC)
        # Python 3.11 reads at most 6 fractional digits; op prints up to 9.
        text = re.sub(r"(\.\d{6})\d+", r"\1", text)
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except (ValueError, OverflowError, OSError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _permissions(reader: _Reader) -> tuple[str, ...]:
    """Permission names lower-cased: op 2.6 printed `allow_viewing`, later versions print the
    granular names (`view_items`, `manage_vault`, ...); both are passed back verbatim to revoke."""
    return tuple(p.strip().lower() for p in reader.strings("permissions") if p.strip())


# --- whoami -----------------------------------------------------------------------------------


def parse_whoami(raw: bytes | str) -> WhoAmI:
    """`op whoami`. Key names changed across versions (2.18: `URL`, `ServiceAccountType` only)."""
    command = "whoami"
    r = _Reader(_single(_load(raw, command), command), command, "whoami")
    who = WhoAmI(
        user_id=r.optional_id("user_uuid", "user_id", "UserUUID", "userUUID"),
        user_type=r.text("user_type", "ServiceAccountType", "UserType", "type"),
        account_id=r.optional_id("account_uuid", "account_id", "AccountUUID", "accountUUID"),
        url=r.text("url", "URL"),
        email=r.text("email", "Email"),
    )
    if not (who.user_id or who.account_id or who.url):
        raise _malformed(command, "whoami has none of url, user id or account id")
    return who


# --- vaults -----------------------------------------------------------------------------------


def _vault(obj: JsonObject, command: str, where: str) -> VaultRecord:
    r = _Reader(obj, command, where)
    return VaultRecord(
        id=r.required_id("id", "uuid"),
        name=r.text("name"),
        content_version=r.integer("content_version", "contentVersion"),
        vault_type=r.text("type", "vault_type"),
        description=r.text("description"),
        items=r.integer("items", "item_count"),
        created_at=r.timestamp("created_at"),
        updated_at=r.timestamp("updated_at"),
    )


def parse_vault_list(raw: bytes | str) -> tuple[VaultRecord, ...]:
    command = "vault list"
    return _rows(_load(raw, command), command, "vault", lambda o, w: _vault(o, command, w))


def parse_vault_get(raw: bytes | str) -> VaultRecord:
    command = "vault get"
    return _vault(_single(_load(raw, command), command), command, "vault")


# --- items ------------------------------------------------------------------------------------


def _urls(r: _Reader) -> tuple[UrlRecord, ...]:
    value = r.obj.get("urls")
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _malformed(r.command, f"'urls' of {r.where} is {_type_name(value)}, expected a list")
    urls = []
    for i, entry in enumerate(value):
        u = _Reader(_object(entry, r.command, f"url [{i}] of {r.where}"), r.command, f"url [{i}] of {r.where}")
        # Userinfo and secret-looking parameters are credentials: they never leave vaults/op/.
        href = redact_url(u.text("href", "url"))
        if href:
            urls.append(UrlRecord(label=u.text("label"), href=href, primary=u.boolean("primary")))
    return tuple(urls)


def _item_summary(obj: JsonObject, command: str, where: str) -> ItemSummary:
    r = _Reader(obj, command, where)
    item_id = r.required_id("id", "uuid")
    vault = r.child("vault")
    if vault is None:
        raise _malformed(command, f"{where} has no 'vault'")
    return ItemSummary(
        id=item_id,
        title=r.text("title"),
        version=r.integer("version") or 0,
        vault_id=vault.required_id("id", "uuid"),
        vault_name=vault.text("name"),
        category=r.text("category").upper(),
        tags=r.strings("tags"),
        urls=_urls(r),
        state=(r.text("state") or "ACTIVE").upper(),
        favorite=r.boolean("favorite"),
        last_edited_by=r.text("last_edited_by"),
        created_at=r.timestamp("created_at"),
        updated_at=r.timestamp("updated_at"),
    )


def parse_item_list(raw: bytes | str) -> tuple[ItemSummary, ...]:
    command = "item list"
    return _rows(_load(raw, command), command, "item", lambda o, w: _item_summary(o, command, w))


def parse_item_summary(raw: bytes | str, *, command: str = "item edit") -> ItemSummary:
    """The item head of an object op printed after a write (`item edit`, `item move`).

    Only metadata keys are read; the fields (which may hold a freshly generated password) are
    not looked at.
    """
    return _item_summary(_single(_load(raw, command), command), command, "item")


def _secret_text(field: _Reader) -> str | None:
    """A concealed field's value as text, None when op left it out."""
    value = field.obj.get("value")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _malformed(field.command, f"'value' of {field.where} is {_type_name(value)}, expected text")
    return str(value)


def _history_count(details: _Reader | None) -> int:
    if details is None:
        return 0
    history = details.obj.get("history")
    if history is None:
        return 0
    if not isinstance(history, list):
        raise _malformed(details.command, f"'history' of {details.where} is {_type_name(history)}, expected a list")
    return len(history)


def _last_day_of_month(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def parse_expiry(value: Any, field_type: str) -> date | None:
    """Date of a DATE field (unix seconds or YYYY-MM-DD) or a MONTH_YEAR field (YYYYMM, YYYY-MM,
    MM/YYYY: the last day of that month). Unreadable → None."""
    if value is None or isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = str(value).strip()
    try:
        if field_type == "MONTH_YEAR":
            if m := re.fullmatch(r"(\d{4})-?(\d{2})", text):
                return _last_day_of_month(int(m.group(1)), int(m.group(2)))
            if m := re.fullmatch(r"(\d{1,2})/(\d{4})", text):
                return _last_day_of_month(int(m.group(2)), int(m.group(1)))
            return None
        if re.fullmatch(r"-?\d{1,12}(\.\d+)?", text):
            return datetime.fromtimestamp(float(text), tz=UTC).date()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def _unique_field_id(field_id: str, section_id: str, seen: set[str]) -> str:
    candidate = field_id
    if candidate in seen and section_id:
        candidate = f"{section_id}/{field_id}"
    n = 1
    while candidate in seen:
        n += 1
        candidate = f"{field_id}#{n}"
    seen.add(candidate)
    return candidate


def parse_item_get(raw: bytes | str, *, fingerprint_key: bytes, known_scores: KnownScores | None = None) -> ItemDetail:
    """`op item get ITEM --vault V --reveal`, reduced to metadata and SecretFacts.

    1. The head is read as in `item list`; `additional_information` is never read.
    2. Each field becomes a FieldRecord (id, label, type, purpose, section label).
    3. CONCEALED and SSHKEY values go straight to `secret_facts` and are dropped; op's
       `password_details.strength` and the history *count* are kept; a value whose fingerprint
       is in `known_scores` is not scored again.
    4. NOTES fields only set `has_notes`; OTP fields keep no value at all.
    5. A DATE or MONTH_YEAR field whose id or label mentions "expir" sets `expires_at` (the
       earliest, if several).
    6. `password_details.generated` is kept per concealed field; `files` (DOCUMENT items and
       attachments) keep their name and size only.
    """
    command = "item get"
    return _item_detail(_single(_load(raw, command), command), fingerprint_key=fingerprint_key,
                        known_scores=known_scores)


def _item_detail(obj: JsonObject, *, fingerprint_key: bytes, known_scores: KnownScores | None) -> ItemDetail:
    command = "item get"
    summary = _item_summary(obj, command, "item")
    r = _Reader(obj, command, "item")

    section_labels: dict[str, str] = {}
    sections = obj.get("sections")
    if sections is not None:
        if not isinstance(sections, list):
            raise _malformed(command, f"'sections' of item is {_type_name(sections)}, expected a list")
        for i, section in enumerate(sections):
            s = _Reader(_object(section, command, f"section [{i}]"), command, f"section [{i}]")
            if sid := s.text("id"):
                section_labels[sid] = s.text("label")

    raw_fields = r.obj.get("fields")
    if raw_fields is None:
        raw_fields = []
    if not isinstance(raw_fields, list):
        raise _malformed(command, f"'fields' of item is {_type_name(raw_fields)}, expected a list")

    fields: list[FieldRecord] = []
    seen_ids: set[str] = set()
    username_fingerprint = ""
    has_notes = False
    expires_at: date | None = None
    for i, entry in enumerate(raw_fields):
        where = f"field [{i}]"
        f = _Reader(_object(entry, command, where), command, where)
        field_type = f.text("type").upper()
        purpose = f.text("purpose").upper()
        label = f.text("label")
        section = f.child("section")
        section_id = section.text("id") if section else ""
        section_label = (section.text("label") if section else "") or section_labels.get(section_id, "")
        field_id = _unique_field_id(f.text("id") or label or f"field-{i}", section_id, seen_ids)

        secret: SecretFacts | None = None
        generated: bool | None = None
        if purpose == NOTES_PURPOSE:
            value = f.obj.get("value")
            has_notes = has_notes or (isinstance(value, str) and bool(value.strip()))
        elif purpose == USERNAME_PURPOSE and not username_fingerprint:
            username_fingerprint = _username_fingerprint(f.obj.get("value"), fingerprint_key)
        elif field_type in FINGERPRINTED_FIELD_TYPES:
            details = f.child("password_details")
            secret = secret_facts(
                _secret_text(f),
                strength_label=details.text("strength").upper() if details else "",
                history_count=_history_count(details),
                key=fingerprint_key,
                score_strength=field_type != "SSHKEY",
                known_scores=known_scores,
            )
            generated = _generated_flag(details)
        elif field_type in ("DATE", "MONTH_YEAR") and "expir" in f"{f.text('id')} {label}".lower():
            expiry = parse_expiry(f.obj.get("value"), field_type)
            if expiry is not None and (expires_at is None or expiry < expires_at):
                expires_at = expiry
        fields.append(
            FieldRecord(
                id=field_id,
                label=label,
                type=field_type,
                purpose=purpose,
                section_label=section_label,
                secret=secret,
                generated=generated,
            )
        )
    return ItemDetail(summary=summary, fields=tuple(fields), has_notes=has_notes, expires_at=expires_at,
                      files=_files(r), username_fingerprint=username_fingerprint)


@dataclass(frozen=True, slots=True)
class ItemStream:
    """What a batch `op item get -` printed: the items read in order, and why reading stopped
    early or skipped an item (`problems`, never quoting the output), so the caller fetches the
    items not in `details` one by one."""

    details: tuple[ItemDetail, ...]
    problems: tuple[str, ...]


def parse_item_get_stream(
    raw: bytes | str, *, fingerprint_key: bytes, known_scores: KnownScores | None = None
) -> ItemStream:
    """A batch `op item get -`: JSON values one after another (op prints each item as it reads
    it), or one JSON list of them. Each item goes through the same reduction as a single
    `item get`, so values become SecretFacts here as well.

    1. Not UTF-8: nothing is read (a problem, no exception: the caller falls back).
    2. Values are decoded with `raw_decode` one at a time; a list is read element by element.
    3. An item whose JSON is not what `item get` expects is skipped (a problem), the next read.
    4. Text that is not JSON ends the reading: what follows it cannot be delimited.
    """
    command = "item get"
    try:
        text = raw if isinstance(raw, str) else bytes(raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        return ItemStream((), (f"`op {command}` printed output that is not valid UTF-8 (first bad byte at offset {exc.start})",))
    details: list[ItemDetail] = []
    problems: list[str] = []
    decoder = json.JSONDecoder()
    position = index = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            break
        value: Any = None
        problem: str | None = None
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            problem = f"`op {command}` printed output that is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        except (ValueError, RecursionError):
            problem = f"`op {command}` printed output that is not JSON this parser accepts"
        if problem is not None:
            problems.append(problem)
            break
        for obj in value if isinstance(value, list) else [value]:
            try:
                details.append(_item_detail(_object(obj, command, f"item [{index}]"), fingerprint_key=fingerprint_key,
                                            known_scores=known_scores))
            except OpMalformedOutput as error:
                problems.append(f"item [{index}]: {error.message}")
            index += 1
    return ItemStream(tuple(details), tuple(problems))


def _username_fingerprint(value: object, key: bytes) -> str:
    """Keyed HMAC of a sign-in name, case-folded (`Alice` and `alice` are one account), under
    its own prefix so it never equals a secret's fingerprint. "" for an empty or odd value."""
    if not isinstance(value, str) or not value.strip():
        return ""
    return fingerprint("username\x00" + value.strip().casefold(), key=key)


def _generated_flag(details: _Reader | None) -> bool | None:
    """`password_details.generated`, None when op did not print it (it is absent, not false,
    on passwords op knows nothing about)."""
    if details is None or details.obj.get("generated") is None:
        return None
    return details.boolean("generated")


def _files(r: _Reader) -> tuple[FileRecord, ...]:
    """`files` of `item get` (DOCUMENT items, attachments): id, name and size. `content_path`
    is left out: it only serves a download, and content is never fetched."""
    value = r.obj.get("files")
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _malformed(r.command, f"'files' of {r.where} is {_type_name(value)}, expected a list")
    files = []
    for i, entry in enumerate(value):
        where = f"file [{i}] of {r.where}"
        f = _Reader(_object(entry, r.command, where), r.command, where)
        size = f.integer("size")
        files.append(FileRecord(id=f.text("id"), name=f.text("name"), size=size if size is None or size >= 0 else None))
    return tuple(files)


# --- users, groups, grants --------------------------------------------------------------------


def _user(obj: JsonObject, command: str, where: str) -> UserRecord:
    r = _Reader(obj, command, where)
    return UserRecord(
        id=r.required_id("id", "uuid"),
        name=r.text("name"),
        email=r.text("email"),
        user_type=r.text("type", "user_type").upper(),
        state=r.text("state").upper(),
    )


def parse_user_list(raw: bytes | str) -> tuple[UserRecord, ...]:
    command = "user list"
    return _rows(_load(raw, command), command, "user", lambda o, w: _user(o, command, w))


def _group(obj: JsonObject, command: str, where: str) -> GroupRecord:
    r = _Reader(obj, command, where)
    return GroupRecord(
        id=r.required_id("id", "uuid"),
        name=r.text("name"),
        description=r.text("description"),
        state=r.text("state").upper(),
    )


def parse_group_list(raw: bytes | str) -> tuple[GroupRecord, ...]:
    command = "group list"
    return _rows(_load(raw, command), command, "group", lambda o, w: _group(o, command, w))


def _vault_user(obj: JsonObject, command: str, where: str) -> VaultUserGrant:
    r = _Reader(obj, command, where)
    return VaultUserGrant(
        user_id=r.required_id("id", "uuid"),
        name=r.text("name"),
        email=r.text("email"),
        user_type=r.text("type", "user_type").upper(),
        state=r.text("state").upper(),
        permissions=_permissions(r),
    )


def parse_vault_user_list(raw: bytes | str) -> tuple[VaultUserGrant, ...]:
    """`op vault user list V`: op 2.6 printed `uuid` and `allow_*` permissions, later `id`."""
    command = "vault user list"
    return _rows(_load(raw, command), command, "user", lambda o, w: _vault_user(o, command, w))


def _vault_group(obj: JsonObject, command: str, where: str) -> VaultGroupGrant:
    r = _Reader(obj, command, where)
    return VaultGroupGrant(group_id=r.required_id("id", "uuid"), name=r.text("name"), permissions=_permissions(r))


def parse_vault_group_list(raw: bytes | str) -> tuple[VaultGroupGrant, ...]:
    command = "vault group list"
    return _rows(_load(raw, command), command, "group", lambda o, w: _vault_group(o, command, w))


def _member(obj: JsonObject, command: str, where: str) -> GroupMember:
    r = _Reader(obj, command, where)
    return GroupMember(
        user_id=r.required_id("id", "uuid"),
        name=r.text("name"),
        email=r.text("email"),
        role=r.text("role").upper(),
    )


def parse_group_user_list(raw: bytes | str) -> tuple[GroupMember, ...]:
    command = "group user list"
    return _rows(_load(raw, command), command, "member", lambda o, w: _member(o, command, w))


# --- rate limits ------------------------------------------------------------------------------


def _ratelimit_row(obj: JsonObject, command: str, where: str) -> RateLimitRow:
    r = _Reader(obj, command, where)
    kind = r.text("type", "kind").lower()
    action = r.text("action").lower()
    if not kind or not action:
        raise _malformed(command, f"{where} has no 'type' or 'action'")
    reset = r.integer("reset", "reset_seconds")
    return RateLimitRow(
        kind=kind,
        action=action,
        limit=r.integer("limit") or 0,
        used=r.integer("used") or 0,
        remaining=r.integer("remaining") or 0,
        reset_seconds=reset,
    )


_TABLE_HEADER = re.compile(r"^\s*TYPE\s+ACTION\s+LIMIT\s+USED\s+REMAINING\s+RESET\s*$", re.IGNORECASE)
_DURATION_PART = re.compile(r"(\d+)\s*(second|minute|hour|day)s?", re.IGNORECASE)
_DURATION_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def _table_reset_seconds(text: str) -> int | None:
    """Reset column: "N/A" → None; "59 minutes from now", "1 hour 3 minutes from now" → seconds."""
    parts = _DURATION_PART.findall(text)
    if not parts:
        return None
    return sum(int(n) * _DURATION_UNITS[unit.lower()] for n, unit in parts)


def _parse_ratelimit_table(text: str, command: str) -> tuple[RateLimitRow, ...]:
    """The human table op prints when `--format json` is not honoured:
    `TYPE ACTION LIMIT USED REMAINING RESET` then one row per limit."""
    lines = [line for line in text.splitlines() if line.strip()]
    rows = []
    for n, line in enumerate(lines[1:], start=1):
        cells = line.split(None, 5)
        if len(cells) < 5 or not all(c.isdigit() for c in cells[2:5]):
            raise _malformed(command, f"table row {n} does not have TYPE ACTION LIMIT USED REMAINING RESET")
        rows.append(
            RateLimitRow(
                kind=cells[0].lower(),
                action=cells[1].lower(),
                limit=int(cells[2]),
                used=int(cells[3]),
                remaining=int(cells[4]),
                reset_seconds=_table_reset_seconds(cells[5]) if len(cells) > 5 else None,
            )
        )
    return tuple(rows)


def parse_ratelimit(raw: bytes | str) -> tuple[RateLimitRow, ...]:
    """`op service-account ratelimit`: a JSON list with `--format json`, else a table."""
    command = "service-account ratelimit"
    if isinstance(raw, bytes | bytearray):
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            text = ""  # _load below reports it
    else:
        text = raw
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and _TABLE_HEADER.match(lines[0]):
        return _parse_ratelimit_table(text, command)
    return _rows(_load(raw, command), command, "limit", lambda o, w: _ratelimit_row(o, command, w))
