"""Break-glass events from imported item usage, and what each still waits for.

`record_uses(account)` runs after every events import (vaults/sync.py) and from the
`breakglass_backfill` command when a vault becomes emergency; it is idempotent:
1. Read the raw usages of the account's vaults classified emergency (a handful: break-glass
   vaults are rarely opened), ordered by person, item and time; the sync's own identity's reads
   (vaults/findings/sync_identity.py) are left out.
2. Group them: a use within SESSION_GAP of the previous use of the same person on the same item
   belongs to the same event (someone who opens the item, copies the password and fills it in
   again ten minutes later had one emergency, not three).
3. Each group updates the stored event it overlaps (its last use, count and actions), or
   becomes a new event with rotation due BREAK_GLASS_ROTATION_HOURS after its first use.
4. `refresh_rotations` marks an event rotated once every secret field of its item changed after
   the event's last use (the one definition of rotated: vaults/rotated.py). A change before a use
   of the event does not count: the person saw the new secret (also between two reads of one event).
New events are returned so the caller can notify (notify.py) after its transaction commits.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from vaults.breakglass.models import EmergencyUse
from vaults.findings.sync_identity import sync_identity_op_id
from vaults.models import Account, Item, ItemUsage, SecretField, Vault
from vaults.rotated import rotated_at

# Uses of one item by one person closer together than this are one emergency (step 2).
SESSION_GAP = datetime.timedelta(hours=1)
EMERGENCY = Vault.Classification.EMERGENCY


def rotation_hours() -> int:
    return int(getattr(settings, "BREAK_GLASS_ROTATION_HOURS", 24))


def reason_hours() -> int:
    return int(getattr(settings, "BREAK_GLASS_REASON_HOURS", 24))


@dataclass
class _Group:
    user_op_id: str
    item_op_id: str
    vault_op_id: str
    user_email: str
    user_name: str
    first: datetime.datetime
    last: datetime.datetime
    actions: set[str]
    count: int


def _groups(rows: Iterable[ItemUsage]) -> list[_Group]:
    groups: list[_Group] = []
    current: _Group | None = None
    for use in rows:
        same = (current is not None and current.user_op_id == use.user_op_id
                and current.item_op_id == use.item_op_id and use.timestamp - current.last <= SESSION_GAP)
        if same and current is not None:
            current.last = max(current.last, use.timestamp)
            current.count += 1
            current.actions.add(use.action)
            current.user_email = current.user_email or use.user_email
            current.user_name = current.user_name or use.user_name
            continue
        current = _Group(use.user_op_id, use.item_op_id, use.vault_op_id, use.user_email, use.user_name,
                         use.timestamp, use.timestamp, {use.action}, 1)
        groups.append(current)
    return groups


def emergency_vaults(account: Account) -> dict[str, Vault]:
    return {v.op_id: v for v in Vault.objects.filter(account=account, classification=EMERGENCY)}


@transaction.atomic
def record_uses(*, account: Account) -> list[EmergencyUse]:
    """Steps 1-3 of the module docstring; returns the events created now."""
    vaults = emergency_vaults(account)
    if not vaults:
        return []
    rows = ItemUsage.objects.filter(account=account, vault_op_id__in=list(vaults))
    own = sync_identity_op_id(account)
    if own:  # the sync's own `op item get` reads (its service account) are no one's emergency
        rows = rows.exclude(user_op_id=own)
    rows = (rows.only("user_op_id", "item_op_id", "vault_op_id", "user_email", "user_name", "timestamp", "action")
            .order_by("user_op_id", "item_op_id", "timestamp", "pk"))
    groups = _groups(rows)
    if not groups:
        return []
    stored: dict[tuple[str, str], list[EmergencyUse]] = {}
    for event in EmergencyUse.objects.select_for_update().filter(account=account, vault_op_id__in=list(vaults)):
        stored.setdefault((event.user_op_id, event.item_op_id), []).append(event)
    items = {(i.vault_id, i.op_id): i for i in Item.objects.filter(vault__in=vaults.values())}
    field_ids: dict[int, list[str]] = {}
    for item_id, field_id in (SecretField.objects.filter(item__in=items.values(), fingerprint__isnull=False)
                              .order_by("field_id").values_list("item_id", "field_id")):
        field_ids.setdefault(item_id, []).append(field_id)
    created: list[EmergencyUse] = []
    for group in groups:
        match = next((e for e in stored.get((group.user_op_id, group.item_op_id), [])
                      if group.first <= e.last_used_at + SESSION_GAP and group.last >= e.first_used_at - SESSION_GAP),
                     None)  # fmt: skip
        if match is not None:
            _extend(match, group)
            continue
        vault = vaults[group.vault_op_id]
        item = items.get((vault.pk, group.item_op_id))
        event = EmergencyUse.objects.create(
            account=account, vault=vault, item=item, vault_op_id=group.vault_op_id, item_op_id=group.item_op_id,
            vault_name=vault.name, item_title=item.title if item else "", user_op_id=group.user_op_id,
            user_email=group.user_email, user_name=group.user_name, first_used_at=group.first,
            last_used_at=group.last, actions=sorted(a for a in group.actions if a), use_count=group.count,
            rotation_due_at=group.first + datetime.timedelta(hours=rotation_hours()),
            secret_field_ids=field_ids.get(item.pk, []) if item else [],
        )
        stored.setdefault((group.user_op_id, group.item_op_id), []).append(event)
        created.append(event)
    return created


def _extend(event: EmergencyUse, group: _Group) -> None:
    """A stored event seen again: the whole group is the event now (a re-read adds nothing)."""
    first, last = min(event.first_used_at, group.first), max(event.last_used_at, group.last)
    actions = sorted({*event.actions, *(a for a in group.actions if a)})
    count = max(event.use_count, group.count)
    if (first, last, actions, count) == (event.first_used_at, event.last_used_at, event.actions, event.use_count):
        return
    event.first_used_at, event.last_used_at, event.actions, event.use_count = first, last, actions, count
    event.rotation_due_at = first + datetime.timedelta(hours=rotation_hours())
    if event.rotated_at is not None and event.rotated_at < last:  # the new secret was read too: not rotated
        event.rotated_at = None
    event.save(update_fields=["first_used_at", "last_used_at", "actions", "use_count", "rotation_due_at", "rotated_at"])


def refresh_rotations(*, account: Account) -> int:
    """Step 4: set `rotated_at` on events whose item's secrets all changed after their last use
    (vaults/rotated.py). Returns how many events were marked. Once set it stays: a later change
    is another rotation."""
    waiting = EmergencyUse.objects.filter(account=account, rotated_at__isnull=True, item__isnull=False)
    marked = 0
    for event in waiting.only("pk", "item_id", "last_used_at", "secret_field_ids"):
        when = rotated_at(event.item_id or 0, since=event.last_used_at, required=event.secret_field_ids)
        if when is not None:
            marked += EmergencyUse.objects.filter(pk=event.pk, rotated_at__isnull=True).update(rotated_at=when)
    return marked


# --- what an event waits for --------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    reason: str  # "given", "missing", "waiting"
    rotation: str  # "done", "late", "done-late", "due"
    label: str

    @property
    def pill(self) -> str:
        """The pill class of app.css: red when something is overdue, amber while waiting, green when closed."""
        if self.reason == "missing" or self.rotation == "late":
            return "sev-high"
        return "status-done" if self.reason == "given" and self.rotation in ("done", "done-late") else "sev-medium"


def reason_due_at(event: EmergencyUse) -> datetime.datetime:
    """When a missing reason becomes overdue (the emergency_reason_missing finding's moment)."""
    return event.first_used_at + datetime.timedelta(hours=reason_hours())


def reason_state(event: EmergencyUse, now: datetime.datetime) -> str:
    if event.reason_at is not None and event.reason_at <= now:
        return "given"
    return "missing" if now >= reason_due_at(event) else "waiting"


def rotation_state(event: EmergencyUse, now: datetime.datetime) -> str:
    """done / done-late (rotated, after the deadline) / late (not rotated, past due) / due."""
    if event.rotated_at is not None and event.rotated_at <= now:
        return "done" if event.rotated_at <= event.rotation_due_at else "done-late"
    return "late" if now >= event.rotation_due_at else "due"


ROTATION_LABELS = {"done": "Rotated in time", "done-late": "Rotated late", "late": "Rotation late", "due": "Rotation due"}
REASON_LABELS = {"given": "Reason given", "missing": "Reason missing", "waiting": "Reason requested"}


def state(event: EmergencyUse, now: datetime.datetime | None = None) -> State:
    now = now or timezone.now()
    reason, rotation = reason_state(event, now), rotation_state(event, now)
    settled = reason == "given" and rotation in ("done", "done-late")
    label = f"{REASON_LABELS[reason]}; {ROTATION_LABELS[rotation].lower()}"
    if settled:
        label = "Closed" + ("" if rotation == "done" else " (rotated late)")
    return State(reason, rotation, label)


def missing_reason(now: datetime.datetime) -> Q:
    """Events without a reason `reason_hours()` after their first use (the finding's predicate)."""
    return Q(reason_at__isnull=True, first_used_at__lte=now - datetime.timedelta(hours=reason_hours()))


def rotation_late(now: datetime.datetime) -> Q:
    """Events past their rotation deadline whose secret has not changed since (still open)."""
    return Q(rotated_at__isnull=True, rotation_due_at__lte=now)
