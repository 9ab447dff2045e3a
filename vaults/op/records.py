"""Typed, immutable records parsed from `op` output.

These are what leaves `vaults/op/`: metadata only. No record type has a field for a secret value,
notes text, `additional_information` (it holds note text or usernames), password history values,
OTP secrets or private keys. A concealed field is represented by `SecretFacts`, the derived facts
computed in `fingerprint.py`.

All datetimes are timezone-aware (UTC when op printed no offset).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class WhoAmI:
    """`op whoami`. op 2.18 printed only `URL` and `ServiceAccountType`, so ids may be None."""

    user_id: str | None
    user_type: str  # "SERVICE_ACCOUNT", "USER"/"" for a person (op prints no type for them)
    account_id: str | None
    url: str
    email: str


@dataclass(frozen=True, slots=True)
class VaultRecord:
    id: str
    name: str
    # None when op did not print it (old versions, `vault list --user`): callers must then list
    # the vault's items every time instead of trusting an unchanged version.
    content_version: int | None
    vault_type: str  # USER_CREATED, PERSONAL, EVERYONE, TRANSFER... ("" if not printed)
    description: str
    items: int | None
    created_at: datetime | None
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class UrlRecord:
    label: str
    href: str
    primary: bool


@dataclass(frozen=True, slots=True)
class ItemSummary:
    """One row of `op item list` (also the head of `op item get`)."""

    id: str
    title: str
    version: int
    vault_id: str
    vault_name: str
    category: str
    tags: tuple[str, ...]
    urls: tuple[UrlRecord, ...]
    state: str  # "ACTIVE" or "ARCHIVED" (op prints `state` only for archived items)
    favorite: bool
    last_edited_by: str
    created_at: datetime | None
    updated_at: datetime | None

    @property
    def archived(self) -> bool:
        return self.state == "ARCHIVED"


@dataclass(frozen=True, slots=True)
class SecretFacts:
    """What we keep of a concealed value: never the value itself.

    `fingerprint` is HMAC-SHA256(FINGERPRINT_KEY, value) in hex, so equal values in different
    items are found as duplicates without the value ever being stored.
    """

    fingerprint: str | None
    zxcvbn_score: int | None
    length: int | None
    strength: str  # op's own label (TERRIBLE ... FANTASTIC) or ""
    history_count: int
    value_available: bool


@dataclass(frozen=True, slots=True)
class FieldRecord:
    """A field's metadata. `secret` is set for CONCEALED and SSHKEY fields only.

    `id` is unique within its item: op allows duplicate field ids (see the LabelCasing sample),
    so a repeated id is qualified with its section id, then numbered (`section/id`, `id#2`).
    """

    id: str
    label: str
    type: str
    purpose: str
    section_label: str
    secret: SecretFacts | None
    # op's `password_details.generated`: True when 1Password's generator made the password,
    # False when a person typed it, None when op did not say (non-password fields, old op).
    generated: bool | None = None


@dataclass(frozen=True, slots=True)
class FileRecord:
    """A file of an item (a DOCUMENT's file or an attachment): name and size only. The content
    is never downloaded; `content_path` is not kept either, it only serves a download."""

    id: str
    name: str
    size: int | None  # bytes, None when op did not print it


@dataclass(frozen=True, slots=True)
class ItemDetail:
    """`op item get --reveal`, reduced to metadata and derived facts."""

    summary: ItemSummary
    fields: tuple[FieldRecord, ...]
    has_notes: bool
    expires_at: date | None
    files: tuple[FileRecord, ...] = ()
    # Keyed HMAC of the sign-in name (the USERNAME-purpose field, case-folded): tells two accounts
    # of one service apart without keeping the name. "" when the item has none.
    username_fingerprint: str = ""

    @property
    def secret_fields(self) -> tuple[FieldRecord, ...]:
        return tuple(f for f in self.fields if f.secret is not None)


@dataclass(frozen=True, slots=True)
class ItemBatch:
    """The details of a batch read (`OpClient.item_get_batch`): every item asked for is either in
    `details` (by the id asked for, in the order asked) or in `vanished` (op said it does not
    exist, or no longer); anything else raised."""

    details: dict[str, ItemDetail]
    vanished: tuple[str, ...] = ()
    # Items fetched one by one because the batch did not return them (each one more op call).
    refetched: int = 0


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: str
    name: str
    email: str
    user_type: str  # MEMBER, GUEST, SERVICE_ACCOUNT, ...
    # Verbatim as op prints it, upper-cased: ACTIVE, RECOVERY_STARTED, RECOVERY_ACCEPTED,
    # SUSPENDED, TRANSFER_STARTED, TRANSFER_SUSPENDED, ... (a new state is kept, not mapped).
    state: str


@dataclass(frozen=True, slots=True)
class GroupRecord:
    id: str
    name: str
    description: str
    state: str


@dataclass(frozen=True, slots=True)
class VaultUserGrant:
    """A direct grant of a vault to a user (`op vault user list V`). Permissions lower-cased."""

    user_id: str
    name: str
    email: str
    user_type: str
    state: str
    permissions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VaultGroupGrant:
    group_id: str
    name: str
    permissions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GroupMember:
    user_id: str
    name: str
    email: str
    role: str  # MEMBER or MANAGER


@dataclass(frozen=True, slots=True)
class RateLimitRow:
    """One row of `op service-account ratelimit`."""

    kind: str  # "token" or "account"
    action: str  # "read", "write", or "read_write" (the account-wide daily limit)
    limit: int
    used: int
    remaining: int
    reset_seconds: int | None  # None when op says N/A (window not started)
