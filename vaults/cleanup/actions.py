"""What each action kind does: the exact `op` commands, the expected effect, how it runs through
an `OpClient`, how the local rows follow, and how a later sync shows whether it happened.

Only `vaults/op/` runs `op`; this module calls `OpClient` methods and uses `vaults.op.commands`
to *show* the same argv the client will run (never the token: it is in the environment).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from vaults.access import normalise_permissions
from vaults.cleanup import rotation
from vaults.cleanup.models import ProposedAction
from vaults.findings.copies import describe, not_copies_of
from vaults.findings.models import DEFAULT_PASSWORD_RECIPE, Policy
from vaults.models import GroupMembership, Item, SecretField, Vault, VaultGrant
from vaults.op import OpClient, OpInvalidArgument, commands
from vaults.op.commands import OpCommand

Kind = ProposedAction.Kind
DEFAULT_RECIPE = DEFAULT_PASSWORD_RECIPE
GRANT_KINDS = frozenset({Kind.REVOKE_USER, Kind.REVOKE_GROUP})
# Everything that takes access away: vault grants, and a person's membership of a group.
ACCESS_KINDS = GRANT_KINDS | {Kind.REMOVE_GROUP_MEMBER}


class ActionNotPossible(Exception):
    """The action cannot run as proposed (target gone, policy changed): a permanent failure."""


def _vault(action: ProposedAction) -> Vault:
    if action.vault is None:  # only a membership removal has none (a check constraint)
        raise ActionNotPossible("The action names no vault.")
    return action.vault


def _membership(action: ProposedAction) -> tuple[str, str]:
    """(group op id, user op id) of a membership removal."""
    if action.op_group is None:
        raise ActionNotPossible("The group is no longer in the inventory.")
    if action.op_user is None:
        raise ActionNotPossible("The person is no longer in the inventory.")
    return action.op_group.op_id, action.op_user.op_id


def _item(action: ProposedAction) -> Item:
    if action.item is None:
        raise ActionNotPossible("The item is no longer in the inventory.")
    return action.item


def consolidate_items(action: ProposedAction) -> tuple[Item | None, list[Item]]:
    """The kept item and the items to archive, as the lead picked them."""
    ids = [int(i) for i in action.param("archive_item_ids", [])]
    keep_id = action.param("keep_item_id")
    by_id = Item.objects.select_related("vault").in_bulk([*ids, *([int(keep_id)] if keep_id else [])])
    keep = by_id.get(int(keep_id)) if keep_id else None
    return keep, [by_id[i] for i in ids if i in by_id]


def refuse_non_copies(keep: Item, others: list[Item]) -> None:
    """A consolidation archives copies of the kept item only. An item with the same secret behind
    another service (or sharing no secret with it) is a live credential: archiving it would lose
    it, so the whole action is refused, naming each such item by title and vault."""
    strangers = not_copies_of(keep, others)
    if strangers:
        raise ActionNotPossible(
            f"Not copies of “{keep.title}” ({keep.vault.name}), refused: {describe(strangers)}. "
            "An item behind another service is a live credential: rotate its secret instead of archiving it."
        )


def commands_for(action: ProposedAction) -> list[OpCommand]:
    """The op commands this action runs, in order. Raises OpInvalidArgument or
    ActionNotPossible when the inputs cannot make a valid command."""
    kind = action.kind
    if kind == Kind.REMOVE_GROUP_MEMBER:
        return [commands.group_user_revoke(*_membership(action))]
    vault = _vault(action)
    if kind == Kind.CONSOLIDATE_DUPLICATES:
        keep, others = consolidate_items(action)
        if keep is None:
            raise ActionNotPossible("Pick the item to keep first.")
        if not others:
            raise ActionNotPossible("Nothing to archive: every other copy is gone.")
        refuse_non_copies(keep, others)
        return [commands.item_archive(i.op_id, i.vault.op_id) for i in others]
    if kind in GRANT_KINDS:
        perms = list(action.param("permissions", []))
        if kind == Kind.REVOKE_USER:
            if action.op_user is None:
                raise ActionNotPossible("The user is no longer in the inventory.")
            return [commands.vault_user_revoke(vault.op_id, action.op_user.op_id, perms)]
        if action.op_group is None:
            raise ActionNotPossible("The group is no longer in the inventory.")
        return [commands.vault_group_revoke(vault.op_id, action.op_group.op_id, perms)]
    item = _item(action)
    if kind == Kind.ARCHIVE_ITEM:
        return [commands.item_archive(item.op_id, vault.op_id)]
    if kind == Kind.RENAME_ITEM:
        return [commands.item_edit_title(item.op_id, vault.op_id, str(action.param("title", "")))]
    if kind == Kind.SET_TAGS:
        return [commands.item_edit_tags(item.op_id, vault.op_id, list(action.param("tags", [])))]
    if kind == Kind.SET_URL:
        return [commands.item_edit_url(item.op_id, vault.op_id, str(action.param("url", "")))]
    if kind == Kind.ROTATE_SECRET:
        return [commands.item_generate_password(item.op_id, vault.op_id, action.param("recipe", DEFAULT_RECIPE))]
    if kind == Kind.MOVE_ITEM:
        if action.destination_vault is None:
            raise ActionNotPossible("Choose the destination vault.")
        return [
            commands.item_move(
                item.op_id, current_vault_id=vault.op_id, destination_vault_id=action.destination_vault.op_id
            )
        ]
    raise ActionNotPossible(f"Unknown action kind {kind!r}.")


def preview(action: ProposedAction) -> tuple[list[str], str]:
    """(shell-quoted commands as an administrator would type them, problem or "")."""
    try:
        return [shlex.join(c.argv("op")) for c in commands_for(action)], ""
    except (OpInvalidArgument, ActionNotPossible, ValueError) as error:
        return [], str(error)


def estimated_requests(action: ProposedAction) -> int:
    try:
        return sum(c.request_cost for c in commands_for(action))
    except (OpInvalidArgument, ActionNotPossible, ValueError):
        return 0


def target_label(action: ProposedAction) -> str:
    where = action.vault_name
    if action.kind == Kind.REMOVE_GROUP_MEMBER:
        return f"{action.op_user or 'the person'} from group {action.op_group or '(gone)'}"
    if action.kind == Kind.REVOKE_USER and action.op_user is not None:
        return f"{action.op_user} on {where}"
    if action.kind == Kind.REVOKE_GROUP and action.op_group is not None:
        return f"group {action.op_group} on {where}"
    if action.kind == Kind.CONSOLIDATE_DUPLICATES:
        keep, others = consolidate_items(action)
        return f"{len(others) + (1 if keep else 0)} copies of one credential: archive {describe(others)}"
    if action.item is not None:
        return f"{action.item.title} ({where})"
    return where


def expected_effect(action: ProposedAction) -> str:
    kind = action.kind
    title = action.item.title if action.item else ""
    if kind == Kind.ARCHIVE_ITEM:
        return f"“{title}” moves to the Archive (recoverable); it is not deleted."
    if kind == Kind.RENAME_ITEM:
        title = str(action.result.get("old_title", title))
        return f"“{title}” is renamed to “{action.param('title', '')}”."
    if kind == Kind.SET_TAGS:
        return "Tags become: " + (", ".join(action.param("tags", [])) or "(none)") + "."
    if kind == Kind.SET_URL:
        return f"The primary URL becomes {action.param('url', '')}."
    if kind == Kind.MOVE_ITEM:
        dest = action.destination_vault.name if action.destination_vault else "?"
        return f"“{title}” moves to {dest}; 1Password gives it a new ID, which OpenClaw follows."
    if kind == Kind.REVOKE_USER:
        return f"{action.op_user} loses {', '.join(action.param('permissions', []))} on {action.vault_name}."
    if kind == Kind.REVOKE_GROUP:
        return f"Group {action.op_group} loses {', '.join(action.param('permissions', []))} on {action.vault_name}."
    if kind == Kind.REMOVE_GROUP_MEMBER:
        reached = group_vault_names(action)
        through = f": {', '.join(reached)}" if reached else ""
        return (
            f"{action.op_user} leaves the group {action.op_group} and loses the access it gives "
            f"({len(reached)} vault{'s' if len(reached) != 1 else ''}{through}); the group keeps its other members."
        )
    if kind == Kind.CONSOLIDATE_DUPLICATES:
        keep, others = consolidate_items(action)
        if keep is None:
            return "The lead picks the copy to keep; the other copies are archived."
        return (
            f"Keep “{keep.title}” ({keep.vault.name}); archive {len(others)} other "
            f"cop{'y' if len(others) == 1 else 'ies'}: {describe(others)}."
        )
    if kind == Kind.ROTATE_SECRET:
        places = len(action.param("places", []))
        where = f"{places} known place{'s' if places != 1 else ''}" if places else "the services that use it"
        if action.param("via_op", True):
            head = f"1Password generates a new password for “{title}” ({action.param('recipe', DEFAULT_RECIPE)})."
        else:
            head = f"A person rotates “{title}” at its source and stores the new secret in 1Password."
        return f"{head} Then the checklist: update {where}, confirm the service works; the next sync confirms the new fingerprint."
    return ""


def group_vaults(group_id: int | None) -> list[Vault]:
    """The live vaults a group holds a grant on, by name."""
    if group_id is None:
        return []
    return list(
        Vault.objects.filter(grants__group_id=group_id, removed_at__isnull=True).distinct().order_by("name", "pk")
    )


def group_vault_names(action: ProposedAction) -> list[str]:
    return [v.name for v in group_vaults(action.op_group_id)]


def touched_vaults(action: ProposedAction) -> list[Vault]:
    """The vaults an action writes in (locked while it runs). A membership removal writes in no
    vault: it changes the group, so it touches none."""
    if action.vault is None:
        return []
    vaults = {action.vault.pk: action.vault}
    if action.destination_vault is not None:
        vaults[action.destination_vault.pk] = action.destination_vault
    if action.kind == Kind.CONSOLIDATE_DUPLICATES:
        keep, others = consolidate_items(action)
        for item in [*([keep] if keep else []), *others]:
            vaults[item.vault.pk] = item.vault
    return [vaults[pk] for pk in sorted(vaults)]


def is_risky(action: ProposedAction) -> bool:
    """Revocations and membership removals, and anything touching a production vault."""
    if action.kind in ACCESS_KINDS:
        return True
    return any(v.classification == Vault.Classification.PRODUCTION for v in touched_vaults(action))


# --- running ------------------------------------------------------------------------------------


def _remove_permissions(grants: Q, permissions: list[str]) -> None:
    revoked = normalise_permissions(permissions)
    for grant in VaultGrant.objects.filter(grants):
        # A Teams name (`allow_editing`) stands for several permissions: it goes when any of them is
        # revoked. The next sync replaces this local mirror with what 1Password kept.
        kept = [p for p in grant.permissions if not (normalise_permissions([p]) & revoked)]
        if kept:
            VaultGrant.objects.filter(pk=grant.pk).update(permissions=kept)
        else:
            grant.delete()


def run(
    action: ProposedAction, client: OpClient, *, on_progress: Callable[[dict[str, object]], None]
) -> dict[str, object]:
    """Run the action's op commands through `client` and make the local rows follow, so pages
    are right before the next sync confirms. Returns the result to store. `on_progress` saves
    partial results of multi-step actions (consolidation) so a crash leaves a true record."""
    kind = action.kind
    result: dict[str, object] = {}
    if kind == Kind.REMOVE_GROUP_MEMBER:
        client.remove_group_member(*_membership(action))
        GroupMembership.objects.filter(group_id=action.op_group_id, user_id=action.op_user_id).delete()
        return result
    vault = _vault(action)
    if kind == Kind.CONSOLIDATE_DUPLICATES:
        keep, others = consolidate_items(action)
        if keep is None:
            raise ActionNotPossible("Pick the item to keep first.")
        refuse_non_copies(keep, others)  # checked again here: items may have changed since approval
        done: list[int] = list(action.result.get("archived_item_ids", []))
        for other in others:
            if other.pk in done:
                continue
            client.archive_item(other.op_id, other.vault.op_id)
            Item.objects.filter(pk=other.pk).update(archived=True)
            done.append(other.pk)
            on_progress({"archived_item_ids": list(done)})
        return {"archived_item_ids": done}
    if kind == Kind.REVOKE_USER:
        perms = list(action.param("permissions", []))
        assert action.op_user is not None
        client.revoke_user(vault.op_id, action.op_user.op_id, perms)
        _remove_permissions(Q(vault=vault, user=action.op_user), perms)
        return result
    if kind == Kind.REVOKE_GROUP:
        perms = list(action.param("permissions", []))
        assert action.op_group is not None
        client.revoke_group(vault.op_id, action.op_group.op_id, perms)
        _remove_permissions(Q(vault=vault, group=action.op_group), perms)
        return result
    item = _item(action)
    if kind == Kind.ARCHIVE_ITEM:
        client.archive_item(item.op_id, vault.op_id)
        Item.objects.filter(pk=item.pk).update(archived=True)
    elif kind == Kind.RENAME_ITEM:
        summary = client.edit_title(item.op_id, vault.op_id, str(action.param("title")))
        result["old_title"] = item.title
        Item.objects.filter(pk=item.pk).update(title=summary.title)
    elif kind == Kind.SET_TAGS:
        summary = client.edit_tags(item.op_id, vault.op_id, list(action.param("tags", [])))
        Item.objects.filter(pk=item.pk).update(tags=list(summary.tags))
    elif kind == Kind.SET_URL:
        summary = client.edit_url(item.op_id, vault.op_id, str(action.param("url")))
        urls = [{"label": u.label, "href": u.href, "primary": u.primary} for u in summary.urls]
        Item.objects.filter(pk=item.pk).update(urls=urls)
    elif kind == Kind.ROTATE_SECRET:
        mode = rotation.mode_for(item, Policy.for_vault(vault))
        if not mode.via_op:
            raise ActionNotPossible(f"The policy for {vault.name} no longer allows generating this password: {mode.reason}")
        client.generate_password(item.op_id, vault.op_id, action.param("recipe", DEFAULT_RECIPE))
    elif kind == Kind.MOVE_ITEM:
        destination = action.destination_vault
        assert destination is not None
        new_id = client.move_item(item.op_id, current_vault_id=vault.op_id, destination_vault_id=destination.op_id)
        result["old_item_op_id"] = item.op_id
        result["new_item_op_id"] = new_id
        reconcile_moved_item(item=item, destination=destination, new_op_id=new_id)
    return result


def reconcile_moved_item(*, item: Item, destination: Vault, new_op_id: str) -> None:
    """`op item move` re-creates the item with a new id: the Item row (and its secret-field
    facts and findings) follows it instead of looking deleted and re-appearing as new."""
    clash = Item.objects.filter(vault=destination, op_id=new_op_id).exclude(pk=item.pk).first()
    if clash is not None:  # a sync got there first: keep its row, retire ours
        Item.objects.filter(pk=item.pk).update(removed_at=timezone.now())
        return
    Item.objects.filter(pk=item.pk).update(op_id=new_op_id, vault=destination)


# --- verification by a later sync -------------------------------------------------------------


def _gone_or_archived(item_ids: list[int]) -> bool:
    present = Item.objects.filter(pk__in=item_ids, archived=False, removed_at__isnull=True)
    return not present.exists()


def _grant_lacks(grants: Q, permissions: list[str]) -> bool:
    revoked = normalise_permissions(permissions)
    return all(not (normalise_permissions(g.permissions) & revoked) for g in VaultGrant.objects.filter(grants))


def effect_visible(action: ProposedAction, *, since: datetime | None) -> bool:
    """Whether the stored inventory (as the last successful sync left it) shows the action's
    effect. Used to verify manual steps and to settle actions interrupted mid-run."""
    kind = action.kind
    item = Item.objects.filter(pk=action.item_id).first() if action.item_id else None
    if kind == Kind.CONSOLIDATE_DUPLICATES:
        return _gone_or_archived([int(i) for i in action.param("archive_item_ids", [])])
    if kind == Kind.REMOVE_GROUP_MEMBER:
        return not GroupMembership.objects.filter(
            group_id=action.op_group_id, user_id=action.op_user_id, group__removed_at__isnull=True
        ).exists()
    if kind == Kind.REVOKE_USER:
        return _grant_lacks(Q(vault=action.vault, user_id=action.op_user_id), action.param("permissions", []))
    if kind == Kind.REVOKE_GROUP:
        return _grant_lacks(Q(vault=action.vault, group_id=action.op_group_id), action.param("permissions", []))
    if kind == Kind.ARCHIVE_ITEM:
        return item is None or item.archived or item.removed_at is not None
    if item is None:
        return False
    if kind == Kind.RENAME_ITEM:
        return item.title == action.param("title")
    if kind == Kind.SET_TAGS:
        return sorted(item.tags or []) == sorted(action.param("tags", []))
    if kind == Kind.SET_URL:
        return any(u.get("href") == action.param("url") for u in item.urls or [])
    if kind == Kind.ROTATE_SECRET:
        changed = rotation.fingerprint_changed(action)
        if changed is not None:  # compared with the fingerprint recorded at proposal
            return changed
        fields = SecretField.objects.filter(item=item)
        return since is not None and fields.filter(changed_at__gte=since).exists()
    if kind == Kind.MOVE_ITEM:
        if item.vault_id == action.destination_vault_id and item.removed_at is None:
            return True
        # Interrupted before the row followed: the old row vanished from the source and an item
        # with the same title appeared in the destination.
        return (
            item.removed_at is not None
            and action.destination_vault_id is not None
            and Item.objects.filter(
                vault_id=action.destination_vault_id, title=item.title, removed_at__isnull=True
            ).exists()
        )
    return False
