"""Plain factory functions for the 1Password-side models: small, explicit, keyword-only.

Every function creates and saves one row with sensible defaults; pass what the test is about.
Op ids are generated unique per process so rows never collide.
"""

from __future__ import annotations

import datetime
import itertools
from typing import Any

from django.utils import timezone

from vaults.models import (
    Account,
    GroupMembership,
    Item,
    ItemUsage,
    OpGroup,
    OpUser,
    SecretField,
    SyncRun,
    Vault,
    VaultGrant,
)

_ids = itertools.count(1)


def op_id(prefix: str = "x") -> str:
    """A 26-character id shaped like op's."""
    return f"{prefix}{next(_ids):025d}"[-26:]


def days_ago(days: float, *, now: datetime.datetime | None = None) -> datetime.datetime:
    return (now or timezone.now()) - datetime.timedelta(days=days)


def make_account(*, name: str | None = None, **fields: Any) -> Account:
    return Account.objects.create(name=name or f"account-{next(_ids)}", **fields)


def make_vault(
    *,
    account: Account,
    name: str = "Shared Vault",
    classification: str = Vault.Classification.UNCLASSIFIED,
    vault_type: str = "USER_CREATED",
    **fields: Any,
) -> Vault:
    return Vault.objects.create(
        account=account, op_id=op_id("v"), name=name, classification=classification, vault_type=vault_type, **fields
    )


def make_item(
    *,
    vault: Vault,
    title: str = "Stripe Production API Key",
    category: str = "API_CREDENTIAL",
    tags: list[str] | None = None,
    urls: list[dict[str, Any]] | None = None,
    has_notes: bool = True,
    created: datetime.datetime | None = None,
    updated: datetime.datetime | None = None,
    **fields: Any,
) -> Item:
    """An item that is clean by default: tagged, described, with a URL, recently created."""
    now = timezone.now()
    return Item.objects.create(
        vault=vault,
        op_id=op_id("i"),
        title=title,
        category=category,
        tags=["team-payments"] if tags is None else tags,
        urls=[{"label": "website", "href": "https://example.com", "primary": True}] if urls is None else urls,
        has_notes=has_notes,
        op_created_at=created or now - datetime.timedelta(days=10),
        op_updated_at=updated or created or now - datetime.timedelta(days=10),
        **fields,
    )


def make_secret(
    *,
    item: Item,
    fingerprint: str | None = None,
    label: str = "credential",
    field_type: str = "CONCEALED",
    purpose: str = "",
    zxcvbn_score: int | None = 4,
    length: int | None = 32,
    strength: str = "FANTASTIC",
    value_available: bool = True,
    changed_at: datetime.datetime | None = None,
    field_id: str | None = None,
) -> SecretField:
    """A strong, unique, recently changed concealed field unless told otherwise."""
    return SecretField.objects.create(
        item=item,
        field_id=field_id or f"f{next(_ids)}",
        label=label,
        field_type=field_type,
        purpose=purpose,
        fingerprint=fingerprint if fingerprint is not None else f"{next(_ids):064x}",
        zxcvbn_score=zxcvbn_score,
        length=length,
        strength=strength,
        value_available=value_available,
        changed_at=changed_at or timezone.now() - datetime.timedelta(days=5),
    )


def make_op_user(
    *,
    account: Account,
    name: str = "Dana Developer",
    email: str | None = None,
    user_type: str = "MEMBER",
    state: str = "ACTIVE",
    **fields: Any,
) -> OpUser:
    uid = op_id("u")
    return OpUser.objects.create(
        account=account, op_id=uid, name=name, email=email or f"{uid.lower()}@example.com", user_type=user_type,
        state=state, **fields,
    )  # fmt: skip


def make_op_group(*, account: Account, name: str = "Engineering", members: list[OpUser] | None = None, **fields: Any) -> OpGroup:
    group = OpGroup.objects.create(account=account, op_id=op_id("g"), name=name, state="ACTIVE", **fields)
    for user in members or []:
        GroupMembership.objects.create(group=group, user=user, role="MEMBER")
    return group


def add_member(*, group: OpGroup, user: OpUser, role: str = "MEMBER") -> GroupMembership:
    return GroupMembership.objects.create(group=group, user=user, role=role)


def grant(
    *, vault: Vault, user: OpUser | None = None, group: OpGroup | None = None, permissions: list[str] | None = None
) -> VaultGrant:
    """A direct grant to a user or to a group; view rights unless told otherwise."""
    return VaultGrant.objects.create(
        vault=vault, user=user, group=group, permissions=["view_items"] if permissions is None else permissions
    )


def make_usage(
    *, account: Account, user: OpUser, item: Item, when: datetime.datetime | None = None, action: str = "reveal"
) -> ItemUsage:
    return ItemUsage.objects.create(
        account=account, uuid=op_id("e"), timestamp=when or timezone.now(), user_op_id=user.op_id,
        user_email=user.email, user_name=user.name, item_op_id=item.op_id, vault_op_id=item.vault.op_id, action=action,
    )  # fmt: skip


def make_sync_run(*, account: Account, status: str = SyncRun.Status.SUCCEEDED, **fields: Any) -> SyncRun:
    return SyncRun.objects.create(account=account, status=status, **fields)
