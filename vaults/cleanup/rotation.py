"""Rotation as a guided workflow: how a secret is rotated (through `op` or by a person), the
places that use it, the checklist its executor ticks, and the sync that proves it changed.

1. Mode. The policy (`allow_generate_password`, `generate_password_categories`, `password_recipe`)
   says which categories `op item edit --generate-password=<recipe>` may rotate; every other
   rotation is a manual step: a person changes the secret at its source and in 1Password.
2. Places come from metadata only — the item's URLs (credentials stripped), its tags, the
   `op://vault/item/field` reference a service would read it by, and who fetched it recently
   (usage events: person or service account, app, IP). Never a value, never notes text.
3. The checklist: one "update" step per place, then "the service works with the new secret" and
   "rotated at the source". Ticks are stored per person and audit-logged.
4. Proof. At proposal the action records, per secret field, a short digest of the stored
   fingerprint (a hash of the keyed HMAC: it reveals nothing and cannot be compared with anything
   outside this action). A later sync has rotated the secret when a field's fingerprint no longer
   matches. The action is complete when it ran (or the manual step was verified), every checklist
   step is ticked and the fingerprint changed.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from compliance import audit
from vaults.cleanup.models import ProposedAction
from vaults.findings.models import EffectivePolicy
from vaults.models import Item, ItemUsage, OpUser, SecretField
from vaults.models.access import service_accounts
from vaults.op import OpInvalidArgument, commands
from vaults.op.url_redaction import redact_url
from vaults.rotated import rotated_at

Status = ProposedAction.Status
# Fields `--generate-password` writes: the built-in password of LOGIN/PASSWORD-like items.
PASSWORD_FIELD_IDS = frozenset({"password"})
RECENT_READERS_DAYS = 90
MAX_PLACES = 12
SERVICE_WORKS = "service-works"
SOURCE_ROTATED = "source-rotated"


class ChecklistRefused(Exception):
    """A tick that is not allowed now; the message is for the person."""


@dataclass(frozen=True)
class Mode:
    via_op: bool
    reason: str


def valid_recipe(recipe: str) -> bool:
    try:
        commands.item_generate_password("a" * 26, "b" * 26, recipe)
    except OpInvalidArgument:
        return False
    return True


def mode_for(item: Item, policy: EffectivePolicy) -> Mode:
    """Through `op` only where the policy allows it for the item's category and the item has the
    password field the flag writes; otherwise a person rotates it at the source."""
    category = item.category
    if not policy.allow_generate_password:
        return Mode(
            False, "The policy does not allow generating secrets through op: a person rotates it at the source."
        )
    if category not in policy.generate_password_categories:
        return Mode(
            False,
            f"The policy rotates {category} items by hand: the secret must change at its source "
            "(the provider, database or server) in the same step.",
        )
    fields = set(item.secret_fields.filter(fingerprint__isnull=False).values_list("field_id", flat=True))
    if not fields & PASSWORD_FIELD_IDS:
        return Mode(False, "The item has no built-in password field for op to generate into: a person rotates it.")
    # op generates the password only; a rotation counts once every secret changed (vaults/rotated.py),
    # so an item holding more than its password is rotated by a person, all of it in one step.
    if others := sorted(fields - PASSWORD_FIELD_IDS):
        return Mode(False, f"The item holds other secret fields ({', '.join(others)}) that op cannot generate: a person "
                           "rotates every one of them at the source.")  # fmt: skip
    return Mode(True, "The policy allows op to generate a new password for this category.")


def fingerprint_digest(fingerprint: str, salt: str) -> str:
    """A reference to a stored fingerprint that is useless anywhere else: a hash of the HMAC under
    the action's own random salt, so two rotations of items sharing a secret carry different
    references and nobody reading plans learns which secrets are shared."""
    return hashlib.sha256(f"openclaw-rotation:{salt}:{fingerprint}".encode()).hexdigest()[:16]


def fingerprint_refs(item: Item, salt: str) -> dict[str, str]:
    rows = SecretField.objects.filter(item=item, fingerprint__isnull=False).values_list("field_id", "fingerprint")
    return {field_id: fingerprint_digest(fp, salt) for field_id, fp in rows if fp}


def _reference(item: Item, field_id: str) -> str:
    return f"op://{item.vault.name}/{item.title}/{field_id}"


def places_for(item: Item, *, now: Any = None) -> list[dict[str, str]]:
    """Where the secret is used, as far as metadata tells."""
    now = now or timezone.now()
    places: list[dict[str, str]] = []
    for url in item.urls or []:
        href = redact_url(str(url.get("href") or ""))
        if href:
            places.append({"kind": "url", "label": href})
    field_ids = list(SecretField.objects.filter(item=item).order_by("field_id").values_list("field_id", flat=True))
    for field_id in field_ids[:2]:
        places.append({"kind": "reference", "label": _reference(item, field_id)})
    recent = ItemUsage.objects.filter(
        account_id=item.vault.account_id,
        item_op_id=item.op_id,
        timestamp__gte=now - timedelta(days=RECENT_READERS_DAYS),
    )
    # Latest use per (reader, app): an aggregate, not DISTINCT ON, so the demo's SQLite runs it too.
    readers = (
        recent.values("user_op_id", "client_app").annotate(last=Max("timestamp")).order_by("-last", "user_op_id")[:6]
    )
    service_ids = set(
        OpUser.objects.filter(service_accounts(), account_id=item.vault.account_id).values_list(
            "op_id", flat=True
        )
    )
    for reader in readers:
        row = (
            recent.filter(user_op_id=reader["user_op_id"], client_app=reader["client_app"], timestamp=reader["last"])
            .values("user_op_id", "user_name", "user_email", "client_app", "client_ip", "timestamp")
            .first()
        )
        if row is None:
            continue
        who = row["user_name"] or row["user_email"] or row["user_op_id"]
        what = "service account" if row["user_op_id"] in service_ids else "person"
        app = f" with {row['client_app']}" if row["client_app"] else ""
        ip = f" from {row['client_ip']}" if row["client_ip"] else ""
        places.append({"kind": "reader", "label": f"{who} ({what}){app}{ip}, last {row['timestamp']:%Y-%m-%d}"})
    for tag in item.tags or []:
        places.append({"kind": "tag", "label": str(tag)})
    return places[:MAX_PLACES]


PLACE_STEP = {
    "url": "Update the secret where it is used at {label}",
    "reference": "Update or restart every service that reads {label}",
    "reader": "Update the service behind {label}",
    "tag": "Check the services tagged “{label}”",
}


def checklist_for(places: list[dict[str, str]]) -> list[dict[str, str]]:
    steps = [
        {"key": f"place-{n}", "text": PLACE_STEP.get(p["kind"], "Update {label}").format(label=p["label"])}
        for n, p in enumerate(places)
        if p["kind"] != "tag"  # tags say where to look, not a place of their own
    ]
    if not steps:
        steps.append({"key": "place-unknown", "text": "Find and update every service that uses it (no place is known)"})
    steps.append({"key": SERVICE_WORKS, "text": "Confirm each service works with the new secret"})
    steps.append({"key": SOURCE_ROTATED, "text": "Confirm the old secret is revoked at the source"})
    return steps


def rotation_params(item: Item, policy: EffectivePolicy) -> dict[str, Any]:
    """The params of a ROTATE_SECRET action, recorded at proposal time."""
    mode = mode_for(item, policy)
    places = places_for(item)
    salt = secrets.token_hex(16)
    return {
        "recipe": policy.password_recipe,
        "via_op": mode.via_op,
        "mode_reason": mode.reason,
        "places": places,
        "checklist": checklist_for(places),
        "fingerprint_salt": salt,
        "fingerprint_refs": fingerprint_refs(item, salt),
    }


# --- the checklist ----------------------------------------------------------------------------


def ticks(action: ProposedAction) -> dict[str, dict[str, Any]]:
    return dict((action.result or {}).get("checklist_ticks") or {})


def steps(action: ProposedAction) -> list[dict[str, Any]]:
    """Checklist steps with who ticked them and when."""
    done = ticks(action)
    return [{**step, "tick": done.get(step["key"])} for step in action.param("checklist", [])]


def checklist_complete(action: ProposedAction) -> bool:
    done = ticks(action)
    return all(step["key"] in done for step in action.param("checklist", []))


TICKABLE = frozenset({Status.DONE, Status.MANUAL})


def tick(*, action: ProposedAction, user: User, key: str, done: bool) -> ProposedAction:
    """Tick (or untick) one step; stored with the person and time, and audit-logged."""
    with transaction.atomic():
        action = ProposedAction.objects.select_for_update().get(pk=action.pk)
        if action.kind != ProposedAction.Kind.ROTATE_SECRET:
            raise ChecklistRefused("Only a rotation has a checklist.")
        if action.status not in TICKABLE:
            raise ChecklistRefused(
                "The checklist is ticked after the rotation ran (or while its manual step waits), "
                f"not while it is {action.get_status_display().lower()}."
            )
        keys = {step["key"] for step in action.param("checklist", [])}
        if key not in keys:
            raise ChecklistRefused("Unknown checklist step.")
        current = ticks(action)
        if done:
            current[key] = {"by": user.get_username(), "by_id": user.pk, "at": timezone.now().isoformat()}
        else:
            current.pop(key, None)
        action.result = {**(action.result or {}), "checklist_ticks": current}
        action.save(update_fields=["result"])
        audit.record(
            "cleanup.rotation.checklist_ticked" if done else "cleanup.rotation.checklist_unticked",
            actor=user,
            target=action,
            details={"plan": action.plan_id, "step": key, "complete": checklist_complete(action)},
        )
    return action


# --- proof by a later sync --------------------------------------------------------------------


def fingerprint_changed(action: ProposedAction) -> bool | None:
    """True when every secret field recorded at proposal now has another fingerprint (the one
    definition of rotated: vaults/rotated.py); None when nothing was recorded to compare with."""
    recorded: dict[str, str] = action.param("fingerprint_refs") or {}
    if not recorded or action.item_id is None:
        return None
    salt = str(action.param("fingerprint_salt", ""))
    return rotated_at(action.item_id, seen=recorded, digest=lambda fp: fingerprint_digest(fp, salt)) is not None


def verify(action: ProposedAction, *, sync_run_id: int, changed: bool | None = None) -> bool:
    """Record on a rotation whether the sync shows a new fingerprint; True when it does.
    `changed` is the caller's answer when it already has one (no fingerprint was recorded)."""
    if changed is None:
        changed = fingerprint_changed(action)
    result = dict(action.result or {})
    if changed:
        result["fingerprint_verified_by_sync"] = sync_run_id
        result.pop("fingerprint_unchanged_in_sync", None)
    else:
        result["fingerprint_unchanged_in_sync"] = sync_run_id
    ProposedAction.objects.filter(pk=action.pk).update(result=result)
    action.result = result
    return bool(changed)


def fingerprint_verified(action: ProposedAction) -> bool:
    return bool((action.result or {}).get("fingerprint_verified_by_sync"))


def is_complete(action: ProposedAction) -> bool:
    ran = action.status in (Status.DONE, Status.VERIFIED)
    return ran and checklist_complete(action) and fingerprint_verified(action)


def state_label(action: ProposedAction) -> str:
    """One line for the plan page: what the rotation still waits for."""
    if action.status not in (Status.DONE, Status.MANUAL, Status.MANUAL_DONE, Status.VERIFIED):
        return ""
    total = len(action.param("checklist", []))
    ticked = sum(1 for key in ticks(action) if key in {s["key"] for s in action.param("checklist", [])})
    result = action.result or {}
    if result.get("fingerprint_verified_by_sync"):
        proof = f"new fingerprint confirmed by sync #{result['fingerprint_verified_by_sync']}"
    elif result.get("fingerprint_unchanged_in_sync"):
        proof = f"sync #{result['fingerprint_unchanged_in_sync']} still shows the old secret"
    else:
        proof = "waiting for the next sync to confirm the new fingerprint"
    head = "Complete" if is_complete(action) else "Not complete"
    return f"{head}: checklist {ticked} of {total} ticked; {proof}."
