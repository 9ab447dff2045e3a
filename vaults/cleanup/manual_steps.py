"""What a person clicks in 1Password to do an action no configured identity can run.

The steps follow 1Password.com and the 1Password app as an administrator sees them (vault
access: 1Password.com → Vaults → vault → People or Groups → Manage; group membership:
1Password.com → Groups → group → Members; items: the app's item menu). The `op` command stays on the page too, for an administrator who prefers the CLI. A
person then marks the step done and the next sync verifies it (execute.py), so a wrong click
shows up as "not confirmed", never as done.
"""

from __future__ import annotations

from vaults.access import normalise_permissions
from vaults.cleanup.models import ProposedAction
from vaults.models import Item, VaultGrant
from vaults.permission_labels import permission_labels

Kind = ProposedAction.Kind

# Categories whose source a person changes, and where (the first step of a manual rotation).
SOURCE_STEP = {
    "DATABASE": "Change the password on the database server itself (for example ALTER USER … PASSWORD …), "
    "for the user named in the item",
    "SERVER": "Change the password on the server itself (passwd for the account named in the item, "
    "and the admin console password)",
    "API_CREDENTIAL": "Issue a new key or token in the provider's console and keep the old one valid "
    "until every service uses the new one",
    "SSH_KEY": "Generate a new key pair (1Password → New Item → SSH Key → Generate) and add the new public "
    "key to every server or service that trusts the old one",
}
DEFAULT_SOURCE_STEP = "Change the password at the service itself (its account or security settings page)"


def _person(action: ProposedAction) -> str:
    user = action.op_user
    return (f"{user.name} ({user.email})" if user.name and user.email else str(user)) if user else "the person"


def _membership_steps(action: ProposedAction) -> list[str]:
    group = f"“{action.op_group}”" if action.op_group else "the group"
    who = _person(action)
    return [
        "Sign in to 1Password.com as an owner or administrator (or a manager of the group).",
        f"1Password → Groups → {group} → Members → remove {who}: tick the person, choose Remove from Group, confirm.",
        "Leave the group's vault access as it is: its other members keep it. The next sync verifies the person is gone "
        "from the group.",
    ]


def _grantee_steps(action: ProposedAction, *, tab: str, who: str, remaining: list[str]) -> list[str]:
    revoked = permission_labels(action.param("permissions", []))
    vault = action.vault_name
    last = (
        f"Nothing remains of the grant: choose “Remove from vault” for {who}, then confirm."
        if not remaining
        else f"Untick exactly: {', '.join(revoked)}. Leave ticked: {', '.join(permission_labels(remaining))}. "
        "Then choose Update Permissions."
    )
    return [
        "Sign in to 1Password.com as an owner or administrator.",
        f"Select Vaults in the sidebar, then the vault “{vault}”.",
        f"Under {tab}, find {who} and choose Manage (the gear or the permissions link next to it).",
        last,
    ]


def _remaining(action: ProposedAction) -> list[str]:
    revoked = normalise_permissions(action.param("permissions", []))
    grants = VaultGrant.objects.filter(vault=action.vault)
    grants = (
        grants.filter(user_id=action.op_user_id)
        if action.kind == Kind.REVOKE_USER
        else grants.filter(group_id=action.op_group_id)
    )
    kept: list[str] = []
    for grant in grants:
        kept += [p for p in grant.permissions if not (normalise_permissions([p]) & revoked)]
    return kept


def _item_path(item: Item | None, vault_name: str) -> str:
    title = item.title if item is not None else "the item"
    return f"In the 1Password app, open the vault “{vault_name}” and select “{title}”"


def instructions(action: ProposedAction) -> list[str]:
    """Numbered steps (without numbers) for the person doing `action` by hand."""
    kind = action.kind
    vault = action.vault_name
    if kind == Kind.REMOVE_GROUP_MEMBER:
        return _membership_steps(action)
    if kind == Kind.REVOKE_USER:
        return _grantee_steps(action, tab="People", who=_person(action), remaining=_remaining(action))
    if kind == Kind.REVOKE_GROUP:
        who = f"the group “{action.op_group}”" if action.op_group else "the group"
        return _grantee_steps(action, tab="Groups", who=who, remaining=_remaining(action))
    item = action.item
    if kind == Kind.MOVE_ITEM:
        dest = action.destination_vault.name if action.destination_vault else "the destination vault"
        return [
            _item_path(item, vault) + ".",
            f"Choose ⋯ (More actions) → Move, pick “{dest}” and confirm with Move.",
            "1Password re-creates the item in the destination with a new ID and removes the original; "
            "shared links and op:// references by ID must be updated.",
        ]
    if kind == Kind.ARCHIVE_ITEM:
        return [_item_path(item, vault) + ".", "Choose ⋯ (More actions) → Archive (it stays recoverable)."]
    if kind == Kind.CONSOLIDATE_DUPLICATES:
        from vaults.cleanup.actions import consolidate_items

        keep, others = consolidate_items(action)
        kept = f"Keep “{keep.title}” ({keep.vault.name})." if keep else "Keep the copy the plan names."
        return [kept] + [f"{_item_path(o, o.vault.name)} → ⋯ (More actions) → Archive." for o in others]
    if kind == Kind.RENAME_ITEM:
        return [_item_path(item, vault) + ".", f"Choose Edit, set the title to “{action.param('title', '')}”, Save."]
    if kind == Kind.SET_TAGS:
        tags = ", ".join(action.param("tags", [])) or "(none)"
        return [_item_path(item, vault) + ".", f"Choose Edit, set the tags to: {tags}; Save."]
    if kind == Kind.SET_URL:
        return [_item_path(item, vault) + ".", f"Choose Edit, set the website to {action.param('url', '')}; Save."]
    if kind == Kind.ROTATE_SECRET:
        category = item.category if item is not None else ""
        return [
            SOURCE_STEP.get(category, DEFAULT_SOURCE_STEP) + ".",
            _item_path(item, vault) + ", choose Edit, put the same new secret in its field and Save "
            "(1Password keeps the previous value in the item's history).",
            "Update every place in the checklist below, confirm the service works, and revoke the old secret.",
            "Tick the checklist, then Mark done: the next sync confirms the fingerprint changed.",
        ]
    return []
