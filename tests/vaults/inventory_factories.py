"""Small data builders for the inventory page tests (the findings engineer owns factories.py)."""

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

_seq = itertools.count(1)


def _n() -> int:
    return next(_seq)


def account(name: str | None = None) -> Account:
    return Account.objects.create(name=name or f"acme-{_n()}")


def vault(acct: Account, name: str | None = None, **fields: Any) -> Vault:
    return Vault.objects.create(account=acct, op_id=f"v{_n()}", name=name or f"Vault {_n()}", **fields)


def item(v: Vault, title: str | None = None, **fields: Any) -> Item:
    fields.setdefault("category", "LOGIN")
    return Item.objects.create(vault=v, op_id=f"i{_n()}", title=title or f"Item {_n()}", **fields)


def secret(it: Item, **fields: Any) -> SecretField:
    fields.setdefault("field_id", f"password{_n()}")
    fields.setdefault("label", "password")
    fields.setdefault("field_type", "CONCEALED")
    fields.setdefault("purpose", "PASSWORD")
    return SecretField.objects.create(item=it, **fields)


def op_user(acct: Account, name: str | None = None, **fields: Any) -> OpUser:
    n = _n()
    fields.setdefault("email", f"user{n}@example.com")
    fields.setdefault("state", "ACTIVE")
    fields.setdefault("user_type", "MEMBER")
    return OpUser.objects.create(account=acct, op_id=f"u{n}", name=name or f"User {n}", **fields)


def group(acct: Account, name: str | None = None) -> OpGroup:
    return OpGroup.objects.create(account=acct, op_id=f"g{_n()}", name=name or f"Group {_n()}")


def member(g: OpGroup, u: OpUser) -> GroupMembership:
    return GroupMembership.objects.create(group=g, user=u, role="MEMBER")


def grant(v: Vault, *, user: OpUser | None = None, grp: OpGroup | None = None, permissions: list[str] | None = None) -> VaultGrant:
    return VaultGrant.objects.create(vault=v, user=user, group=grp, permissions=permissions or ["view_items"])


def usage(it: Item, u: OpUser, when: datetime.datetime | None = None) -> ItemUsage:
    return ItemUsage.objects.create(
        account=it.vault.account, uuid=f"e{_n()}", timestamp=when or timezone.now(), user_op_id=u.op_id,
        user_name=u.name, user_email=u.email, item_op_id=it.op_id, vault_op_id=it.vault.op_id, action="fill",
    )


def finding(acct: Account, kind: str = Finding.Kind.WEAK, severity: str = Finding.Severity.HIGH, **fields: Any) -> Finding:
    now = timezone.now()
    fields.setdefault("title", f"Finding {_n()}")
    fields.setdefault("explanation", "Because.")
    return Finding.objects.create(
        account=acct, kind=kind, severity=severity, severity_rank=SEVERITY_RANK[severity], key=f"k{_n()}",
        first_seen=now, last_seen=now, **fields,
    )


def snapshot(acct: Account, score: int, *, v: Vault | None = None, when: datetime.datetime | None = None,
             counts: dict[str, int] | None = None, penalties: dict[str, float] | None = None) -> HealthSnapshot:
    return HealthSnapshot.objects.create(
        account=acct, vault=v, score=score, taken_at=when or timezone.now(), items=10,
        counts=counts or {}, penalties=penalties or {},
    )


def sync_run(acct: Account, status: str = SyncRun.Status.SUCCEEDED, **fields: Any) -> SyncRun:
    now = timezone.now()
    fields.setdefault("started_at", now)
    fields.setdefault("finished_at", now)
    return SyncRun.objects.create(account=acct, status=status, **fields)
