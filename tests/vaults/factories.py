"""Plain factory functions for the 1Password-side models: small, explicit, keyword-only.

Every function creates and saves one row with sensible defaults; pass what the test is about.
Op ids are generated unique per process so rows never collide.
"""

from __future__ import annotations

import datetime
import itertools
from typing import Any

from django.utils import timezone

from vaults.findings.models import SEVERITY_RANK, Finding, HealthSnapshot
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
    """An item that is clean by default: tagged, described, with a URL, recently created.

    Pass op_created_at=None / op_updated_at=None for an item op reported without dates."""
    now = timezone.now()
    fields.setdefault("op_created_at", created or now - datetime.timedelta(days=10))
    fields.setdefault("op_updated_at", updated or created or now - datetime.timedelta(days=10))
    return Item.objects.create(
        vault=vault,
        op_id=op_id("i"),
        title=title,
        category=category,
        tags=["team-payments"] if tags is None else tags,
        urls=[{"label": "website", "href": "https://example.com", "primary": True}] if urls is None else urls,
        has_notes=has_notes,
        **fields,
    )


def make_secret(
    *,
    item: Item,
    label: str = "credential",
    field_type: str = "CONCEALED",
    purpose: str = "",
    zxcvbn_score: int | None = 4,
    length: int | None = 32,
    strength: str = "FANTASTIC",
    value_available: bool = True,
    field_id: str | None = None,
    **fields: Any,
) -> SecretField:
    """A strong, unique, recently changed concealed field unless told otherwise.

    fingerprint and changed_at default to a fresh unique fingerprint and five days ago; pass None for neither."""
    field_id = field_id or f"f{next(_ids)}"
    if "fingerprint" not in fields:
        fields["fingerprint"] = f"{next(_ids):064x}"
    if "changed_at" not in fields:
        fields["changed_at"] = timezone.now() - datetime.timedelta(days=5)
    return SecretField.objects.create(
        item=item,
        field_id=field_id,
        label=label,
        field_type=field_type,
        purpose=purpose,
        zxcvbn_score=zxcvbn_score,
        length=length,
        strength=strength,
        value_available=value_available,
        **fields,
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


def make_op_group(
    *,
    account: Account,
    name: str = "Engineering",
    state: str = "ACTIVE",
    members: list[OpUser] | None = None,
    **fields: Any,
) -> OpGroup:
    group = OpGroup.objects.create(account=account, op_id=op_id("g"), name=name, state=state, **fields)
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


def make_finding(
    *,
    account: Account,
    kind: str = Finding.Kind.WEAK,
    severity: str = Finding.Severity.HIGH,
    title: str | None = None,
    explanation: str = "Because.",
    **fields: Any,
) -> Finding:
    """An open finding first and last seen now; attach it with vault=, item= or op_user= when that matters."""
    now = timezone.now()
    return Finding.objects.create(
        account=account, kind=kind, severity=severity, severity_rank=SEVERITY_RANK[severity], key=f"k{next(_ids)}",
        title=title or f"Finding {next(_ids)}", explanation=explanation, first_seen=now, last_seen=now, **fields,
    )  # fmt: skip


def make_snapshot(
    *,
    account: Account,
    score: int,
    vault: Vault | None = None,
    when: datetime.datetime | None = None,
    items: int = 10,
    counts: dict[str, int] | None = None,
    penalties: dict[str, float] | None = None,
) -> HealthSnapshot:
    """A health score taken now: the account's when vault is None, else that vault's."""
    return HealthSnapshot.objects.create(
        account=account, vault=vault, score=score, taken_at=when or timezone.now(), items=items,
        counts=counts or {}, penalties=penalties or {},
    )  # fmt: skip
