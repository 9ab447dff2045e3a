"""Storing what `op` reported: parsed records in, model rows out.

Every function here writes a *newer truth* and never removes anything a failed run could not
confirm: items vanish only through `apply_item_listing`, which the sync calls with a complete,
successful listing of the vault (DESIGN invariant 3).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import TypeVar

from django.db import transaction

from vaults.bulk_write import update_rows
from vaults.classification import classify_vault
from vaults.models import Account, GroupMembership, Item, OpGroup, OpUser, SecretField, Vault, VaultGrant
from vaults.models.access import unknown_user_states
from vaults.op import ItemDetail, ItemSummary, VaultRecord
from vaults.op.records import GroupMember, GroupRecord, SecretFacts, UserRecord, VaultGroupGrant, VaultUserGrant

logger = logging.getLogger(__name__)

USER_STATE_MAX_LENGTH = OpUser._meta.get_field("state").max_length or 100

SUMMARY_FIELDS = ["title", "category", "version", "tags", "urls", "archived", "favorite", "last_edited_by",
                  "op_created_at", "op_updated_at", "removed_at"]


def apply_vault_list(*, account: Account, records: Sequence[VaultRecord], now: datetime) -> list[Vault]:
    """Upsert every listed vault; vaults no longer listed (and their items) are marked removed."""
    existing = {v.op_id: v for v in Vault.objects.filter(account=account)}
    seen: list[Vault] = []
    with transaction.atomic():
        for record in records:
            vault = existing.get(record.id)
            if vault is None:
                vault = Vault(account=account, op_id=record.id,
                              classification=classify_vault(record.name, record.vault_type))
            vault.name = record.name
            vault.vault_type = record.vault_type or vault.vault_type
            vault.description = record.description or vault.description
            # None (op did not say) forces a listing every time: 0 never equals a listed version.
            vault.content_version = record.content_version if record.content_version is not None else 0
            if record.content_version is None:
                vault.listed_content_version = None
            vault.op_created_at = record.created_at or vault.op_created_at
            vault.op_updated_at = record.updated_at or vault.op_updated_at
            vault.removed_at = None
            vault.save()
            seen.append(vault)
        listed = {r.id for r in records}
        gone = [v.pk for v in existing.values() if v.op_id not in listed and v.removed_at is None]
        if gone:
            Vault.objects.filter(pk__in=gone).update(removed_at=now)
            Item.objects.filter(vault_id__in=gone, removed_at__isnull=True).update(removed_at=now)
    return seen


def _summary_values(item: Item, record: ItemSummary) -> None:
    item.title = record.title
    item.category = record.category
    item.version = record.version
    item.tags = list(record.tags)
    item.urls = [asdict(url) for url in record.urls]
    item.archived = record.archived
    item.favorite = record.favorite
    item.last_edited_by = record.last_edited_by
    item.op_created_at = record.created_at
    item.op_updated_at = record.updated_at
    item.removed_at = None


def apply_item_listing(*, vault: Vault, records: Sequence[ItemSummary], now: datetime) -> list[Item]:
    """Store a *complete, successful* listing of one vault and return the items whose details
    must be fetched (new, or `version` differs from the stored details)."""
    existing = {item.op_id: item for item in Item.objects.filter(vault=vault)}
    to_create: list[Item] = []
    to_update: list[Item] = []
    for record in records:
        item = existing.get(record.id)
        if item is None:
            item = Item(vault=vault, op_id=record.id)
            _summary_values(item, record)
            to_create.append(item)
        else:
            _summary_values(item, record)
            to_update.append(item)
    listed = {r.id for r in records}
    with transaction.atomic():
        Item.objects.bulk_create(to_create, batch_size=500)
        update_rows(Item, to_update, SUMMARY_FIELDS)
        Item.objects.filter(vault=vault, removed_at__isnull=True).exclude(op_id__in=listed).update(removed_at=now)
    return [item for item in (*to_create, *to_update) if item.detail_version != item.version and not item.archived]


DETAIL_FIELDS = [*SUMMARY_FIELDS, "field_labels", "has_notes", "expires_at", "files", "username_fingerprint",
                 "detail_version"]
SECRET_FIELDS = ["label", "field_type", "purpose", "fingerprint", "zxcvbn_score", "length", "strength",
                 "history_count", "generated", "value_available", "changed_at"]


def apply_item_details(*, details: Sequence[tuple[Item, ItemDetail]], now: datetime) -> int:
    """Store the details of a batch of items in one transaction, with a fixed number of queries
    per batch; returns how many concealed fields came without a value (op concealed them), so
    the Sync page can say duplicates were not checked for those items."""
    items = [item for item, _ in details]
    stored: dict[tuple[int, str], SecretField] = {
        (f.item_id, f.field_id): f for f in SecretField.objects.filter(item__in=items)
    }
    to_create: list[SecretField] = []
    to_update: list[SecretField] = []
    keep: set[tuple[int, str]] = set()
    without_values = 0
    for item, detail in details:
        _summary_values(item, detail.summary)
        item.field_labels = [{"label": f.label, "type": f.type, "section": f.section_label} for f in detail.fields]
        item.has_notes = detail.has_notes
        item.expires_at = detail.expires_at
        item.files = [{"name": f.name, "size": f.size} for f in detail.files]
        item.username_fingerprint = detail.username_fingerprint
        item.detail_version = detail.summary.version
        for field in detail.secret_fields:
            assert field.secret is not None  # secret_fields only yields fields with facts
            key = (item.pk, field.id)
            keep.add(key)
            row = stored.get(key)
            if row is None:
                row = SecretField(item=item, field_id=field.id)
                to_create.append(row)
            else:
                to_update.append(row)
            row.generated = field.generated
            without_values += _apply_secret(row, item, field.label, field.type, field.purpose, field.secret, now)
    stale = [f.pk for key, f in stored.items() if key not in keep]
    with transaction.atomic():
        update_rows(Item, items, DETAIL_FIELDS)
        SecretField.objects.bulk_create(to_create, batch_size=500)
        update_rows(SecretField, to_update, SECRET_FIELDS)
        SecretField.objects.filter(pk__in=stale).delete()
    return without_values


def _apply_secret(row: SecretField, item: Item, label: str, field_type: str, purpose: str,
                  facts: SecretFacts, now: datetime) -> int:
    """Copy the derived facts onto the row; returns 1 when op gave no value for the field."""
    if facts.fingerprint is not None and row.fingerprint != facts.fingerprint:
        # Rotation age: when the value last changed; on first sight, the item's last edit.
        row.changed_at = now if row.pk and row.fingerprint else (item.op_updated_at or now)
    elif row.changed_at is None:
        row.changed_at = item.op_updated_at or now
    row.label, row.field_type, row.purpose = label, field_type, purpose
    row.value_available = facts.value_available
    row.strength = facts.strength
    row.history_count = facts.history_count
    if not facts.value_available:
        return 1
    row.fingerprint, row.zxcvbn_score, row.length = facts.fingerprint, facts.zxcvbn_score, facts.length
    return 0


def apply_people(
    *,
    account: Account,
    users: Sequence[UserRecord],
    groups: Sequence[GroupRecord],
    members: dict[str, Sequence[GroupMember]],
    user_grants: dict[str, Sequence[VaultUserGrant]],
    group_grants: dict[str, Sequence[VaultGroupGrant]],
    now: datetime,
) -> None:
    """Replace users, groups, memberships and grants in one transaction, after every call of
    the permissions phase succeeded, so readers never see half a permission set. Vaults whose
    grants could not be read (absent from the dicts) keep their previous grants."""
    with transaction.atomic():
        user_rows = _upsert_users(account, users, now)
        group_rows = _upsert_groups(account, groups, now)
        GroupMembership.objects.filter(group__account=account, group__op_id__in=list(members)).delete()
        GroupMembership.objects.bulk_create(
            [GroupMembership(group=group_rows[gid], user=user_rows[m.user_id], role=m.role)
             for gid, group_members in members.items() if gid in group_rows
             for m in group_members if m.user_id in user_rows],
            ignore_conflicts=True,
        )
        vaults = {v.op_id: v for v in Vault.objects.filter(account=account)}
        read_vaults = [vaults[vid].pk for vid in set(user_grants) | set(group_grants) if vid in vaults]
        VaultGrant.objects.filter(vault_id__in=read_vaults).delete()
        grants = [VaultGrant(vault=vaults[vid], user=user_rows[g.user_id], permissions=list(g.permissions))
                  for vid, rows in user_grants.items() if vid in vaults for g in rows if g.user_id in user_rows]
        grants += [VaultGrant(vault=vaults[vid], group=group_rows[g.group_id], permissions=list(g.permissions))
                   for vid, rows in group_grants.items() if vid in vaults for g in rows if g.group_id in group_rows]
        VaultGrant.objects.bulk_create(grants, batch_size=1000)
        Account.objects.filter(pk=account.pk).update(permissions_synced_at=now)


def _upsert_users(account: Account, records: Sequence[UserRecord], now: datetime) -> dict[str, OpUser]:
    """Users with their state exactly as op printed it; a state this code does not know is
    stored as is (treated as inactive, see `classify_user_state`) and named in one warning."""
    unknown = unknown_user_states([r.state for r in records])
    if unknown:
        logger.warning("op reported user states OpenClaw does not know (treated as inactive): %s", ", ".join(unknown))
    rows = {row.op_id: row for row in OpUser.objects.filter(account=account)}
    for r in records:
        row = rows.get(r.id) or OpUser(account=account, op_id=r.id)
        row.name, row.email, row.user_type, row.removed_at = r.name, r.email, r.user_type, None
        row.state = r.state[:USER_STATE_MAX_LENGTH]
        rows[r.id] = row
    return _save_listed(OpUser, account, rows, {r.id for r in records}, now)


def _upsert_groups(account: Account, records: Sequence[GroupRecord], now: datetime) -> dict[str, OpGroup]:
    rows = {row.op_id: row for row in OpGroup.objects.filter(account=account)}
    for r in records:
        row = rows.get(r.id) or OpGroup(account=account, op_id=r.id)
        row.name, row.description, row.state, row.removed_at = r.name, r.description, r.state, None
        rows[r.id] = row
    return _save_listed(OpGroup, account, rows, {r.id for r in records}, now)


Row = TypeVar("Row", OpUser, OpGroup)


def _save_listed(model: type[Row], account: Account, rows: dict[str, Row], listed: set[str], now: datetime) -> dict[str, Row]:
    """Insert new rows, update listed ones, mark the unlisted removed; returns the listed rows."""
    current = [row for op_id, row in rows.items() if op_id in listed]
    model.objects.bulk_create([row for row in current if row.pk is None], batch_size=500)
    fields = [f.name for f in model._meta.concrete_fields if f.name not in ("id", "account", "op_id")]
    update_rows(model, [row for row in current if row.pk is not None], fields)
    model.objects.filter(account=account, removed_at__isnull=True).exclude(op_id__in=listed).update(removed_at=now)
    return {row.op_id: row for row in model.objects.filter(account=account, op_id__in=listed)}
