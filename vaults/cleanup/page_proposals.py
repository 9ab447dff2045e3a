"""Cleanup proposed where a person meets the problem: the item page (set URL/tags, rename, move,
archive), the vault page (revoke a group's or a user's access) and the findings list (bulk).

How one page proposal lands (`propose`):
1. Every action it creates is checked against the person's vault scope first (scope.py): a team
   lead proposes only on vaults they own, a move only into a vault they own too.
2. It is added to the person's open *page draft* for the account — one draft plan per person and
   account, titled `PAGE_PLAN_TITLE` — or starts it. A lead cleaning twenty vaults collects the
   changes as they go and submits once; nothing reaches an approver before that submit.
3. Each action must build a valid `op` command (actions.preview) or nothing is created.
4. The same change already waiting in that draft is refused instead of added twice.

A bulk proposal from the findings list always starts a new draft plan (it is a batch of its own)
and reports, per reason, how many findings produced no action.

Who runs a move is identities.choose_move_identity (the same rule a later edit of the plan uses);
the form shows a destination that makes the move a manual step before anything is submitted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import transaction
from django.db.models import Count

from vaults.access import ELEVATED_PERMISSIONS, normalise_permissions
from vaults.cleanup import actions as action_kinds
from vaults.cleanup import plans, scope
from vaults.cleanup.identities import choose_move_identity
from vaults.cleanup.models import CleanupPlan, ProposedAction
from vaults.cleanup.specs import ActionSpec
from vaults.findings.models import Finding
from vaults.findings.sync_identity import is_sync_identity, sync_identity_op_id
from vaults.models import Account, GroupMembership, Item, OpGroup, OpUser, Vault, VaultGrant

Kind = ProposedAction.Kind
Identity = ProposedAction.Identity

PAGE_PLAN_TITLE = "Changes proposed from pages · {account}"
# A bulk proposal over "all matching this filter" stops here: a plan an approver can still read.
MAX_BULK_FINDINGS = 500
REVOKE_ALL = "all"
REVOKE_ELEVATED = "elevated"


# --- what a page may offer ----------------------------------------------------------------------


@dataclass(frozen=True)
class Destination:
    vault: Vault
    identity: str
    reason: str

    @property
    def is_manual(self) -> bool:
        return self.identity == Identity.MANUAL


@dataclass
class ItemOffers:
    """What the item page offers the person: nothing at all for an archived or removed item, or
    outside their vaults (`why_not` says which)."""

    offered: bool
    why_not: str = ""
    draft: CleanupPlan | None = None


def open_page_draft(account: Account, user: AbstractBaseUser | AnonymousUser) -> CleanupPlan | None:
    if not user.is_authenticated:
        return None
    return (
        CleanupPlan.objects.filter(
            account=account,
            proposed_by_id=user.pk,
            status=CleanupPlan.Status.DRAFT,
            title=PAGE_PLAN_TITLE.format(account=account.name)[:300],
        )
        .order_by("-created_at", "-pk")
        .first()
    )


def item_offers(item: Item, user: AbstractBaseUser | AnonymousUser) -> ItemOffers:
    if not item.is_active or item.vault.removed_at is not None:
        return ItemOffers(False, "The item is archived or removed: there is nothing to propose.")
    if not scope.is_in_scope(user, item.vault):
        return ItemOffers(False, "You do not own this vault: its owner or an admin proposes changes here.")
    return ItemOffers(True, draft=open_page_draft(item.vault.account, user))


def move_identity(item: Item, destination: Vault) -> Destination:
    choice = choose_move_identity(item.vault.account, source=item.vault, destination=destination)
    return Destination(destination, choice.identity, choice.reason)


def move_destinations(item: Item, user: AbstractBaseUser | AnonymousUser) -> list[Destination]:
    """Active vaults of the item's account in the person's scope, each with who would move it."""
    vaults = Vault.objects.filter(account_id=item.vault.account_id, removed_at__isnull=True).exclude(pk=item.vault_id)
    if not scope.proposes_anywhere(user):
        vaults = vaults.filter(owner_id=user.pk)
    return [move_identity(item, v) for v in vaults.order_by("name", "pk")]


@dataclass(frozen=True)
class GroupAccess:
    grant: VaultGrant
    group: OpGroup
    permissions: frozenset[str]
    members: int
    holds_sync_identity: bool  # revoking it could cut OpenClaw off this vault: never offered

    @property
    def elevated(self) -> frozenset[str]:
        return self.permissions & ELEVATED_PERMISSIONS


def group_access(vault: Vault) -> list[GroupAccess]:
    """The groups holding a grant on `vault`, with their rights and member counts."""
    grants = (
        VaultGrant.objects.filter(vault=vault, group__isnull=False, group__removed_at__isnull=True)
        .select_related("group")
        .annotate(members=Count("group__memberships"))
        .order_by("group__name", "pk")
    )
    synced_by = _sync_groups(vault.account)
    return [
        GroupAccess(g, g.group, normalise_permissions(g.permissions or []), g.members, g.group_id in synced_by)  # type: ignore[arg-type]
        for g in grants
    ]


def _sync_groups(account: Account) -> set[int]:
    """Groups OpenClaw's own identity belongs to."""
    own = sync_identity_op_id(account)
    if not own:
        return set()
    memberships = GroupMembership.objects.filter(user__account=account, user__op_id=own)
    return set(memberships.values_list("group_id", flat=True))


def direct_user_grants(vault: Vault) -> list[VaultGrant]:
    """People holding a direct grant on `vault`, OpenClaw's own identity left out."""
    own = sync_identity_op_id(vault.account)
    grants = VaultGrant.objects.filter(vault=vault, user__isnull=False).select_related("user")
    return list(grants.exclude(user__op_id=own).order_by("user__name", "user__email", "pk") if own else grants)


def offers_revocations(vault: Vault, user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the vault's page offers `user` to propose revocations (scope, not role: the
    caller checks the role)."""
    return vault.removed_at is None and scope.is_in_scope(user, vault)


def vault_page_context(vault: Vault, user: AbstractBaseUser | AnonymousUser) -> dict[str, object]:
    """What the vault page's access section needs to offer revocations (to a proposer in scope)."""
    own = sync_identity_op_id(vault.account)
    return {
        "group_access": group_access(vault),
        "revoke_links": offers_revocations(vault, user),
        "sync_identity_op_id": own,
    }


# --- building the actions -----------------------------------------------------------------------


def _active_item(item: Item) -> None:
    if not item.is_active or item.vault.removed_at is not None:
        raise plans.PlanError("The item is archived or removed: there is nothing to propose.")


def _primary_url(item: Item) -> str:
    urls = [u for u in item.urls or [] if isinstance(u, dict) and u.get("href")]
    primary = next((u for u in urls if u.get("primary")), urls[0] if urls else None)
    return str(primary["href"]) if primary else ""


def metadata_specs(*, item: Item, url: str, tags: list[str] | None, finding: Finding | None = None) -> list[ActionSpec]:
    """SET_URL and/or SET_TAGS for what actually changes. `tags` None leaves the tags alone."""
    _active_item(item)
    phase = ProposedAction.Phase.METADATA
    specs = []
    if url and url != _primary_url(item):
        specs.append(ActionSpec(Kind.SET_URL, item.vault, item=item, params={"url": url}, finding=finding, phase=phase))
    if tags is not None and list(tags) != list(item.tags or []):
        specs.append(
            ActionSpec(Kind.SET_TAGS, item.vault, item=item, params={"tags": tags}, finding=finding, phase=phase)
        )
    if not specs:
        raise plans.PlanError("Nothing would change: the URL and tags are already what you entered.")
    return specs


def rename_spec(*, item: Item, title: str) -> ActionSpec:
    _active_item(item)
    if title == item.title:
        raise plans.PlanError("The new title is the current title.")
    return ActionSpec(
        Kind.RENAME_ITEM, item.vault, item=item, params={"title": title}, phase=ProposedAction.Phase.NAMES
    )


def archive_spec(*, item: Item) -> ActionSpec:
    _active_item(item)
    return ActionSpec(Kind.ARCHIVE_ITEM, item.vault, item=item, phase=ProposedAction.Phase.ORPHANED)


def move_spec(*, item: Item, destination: Vault) -> ActionSpec:
    _active_item(item)
    if destination.pk == item.vault_id:
        raise plans.PlanError("The item is already in that vault.")
    if destination.removed_at is not None or destination.account_id != item.vault.account_id:
        raise plans.PlanError("Choose an active vault of the same account.")
    return ActionSpec(Kind.MOVE_ITEM, item.vault, item=item, destination_vault=destination)


def _revoked(permissions: frozenset[str], which: str, *, holder: str) -> list[str]:
    chosen = permissions & ELEVATED_PERMISSIONS if which == REVOKE_ELEVATED else permissions
    if not chosen:
        raise plans.PlanError(f"{holder} holds no elevated permission (manage vault, export items) here.")
    return sorted(chosen)


def revoke_group_spec(*, vault: Vault, group: OpGroup, which: str) -> ActionSpec:
    grant = VaultGrant.objects.filter(vault=vault, group=group, group__removed_at__isnull=True).first()
    if grant is None or vault.removed_at is not None:
        raise plans.PlanError(f"The group {group.name} holds no grant on {vault.name}.")
    if group.pk in _sync_groups(vault.account):
        raise plans.PlanError(
            f"OpenClaw's own service account is a member of {group.name}: revoking the group could cut the sync "
            "off this vault. Change it in 1Password if you mean it."
        )
    perms = _revoked(normalise_permissions(grant.permissions or []), which, holder=f"The group {group.name}")
    return ActionSpec(
        Kind.REVOKE_GROUP, vault, op_group=group, params={"permissions": perms}, phase=ProposedAction.Phase.PERMISSIONS
    )


def revoke_user_spec(*, vault: Vault, user: OpUser, which: str) -> ActionSpec:
    if is_sync_identity(user, vault.account):
        raise plans.PlanError("OpenClaw's own service account is never revoked: the sync would lose this vault.")
    grant = VaultGrant.objects.filter(vault=vault, user=user).first()
    if grant is None or vault.removed_at is not None:
        raise plans.PlanError(
            f"{user} holds no direct grant on {vault.name} (access through a group is revoked per group)."
        )
    perms = _revoked(normalise_permissions(grant.permissions or []), which, holder=str(user))
    return ActionSpec(
        Kind.REVOKE_USER, vault, op_user=user, params={"permissions": perms}, phase=ProposedAction.Phase.PERMISSIONS
    )


# --- landing them in a plan ---------------------------------------------------------------------


@dataclass
class Landed:
    plan: CleanupPlan
    actions: list[ProposedAction]
    new_plan: bool

    def message(self) -> str:
        n = self.plan.actions.count()
        what = ", ".join(a.get_kind_display().lower() for a in self.actions)
        where = "Started your draft plan" if self.new_plan else "Added to your draft plan"
        manual = [a for a in self.actions if a.identity == Identity.MANUAL]
        note = " It will be a manual step for an administrator: " + manual[0].identity_reason if manual else ""
        return (
            f"{where} “{self.plan.title}” ({what}; {n} action{'s' if n != 1 else ''} in it). Nothing reaches an "
            f"approver until you submit the plan.{note}"
        )


def _same_change(plan: CleanupPlan, spec: ActionSpec) -> bool:
    return plan.actions.filter(
        kind=spec.kind,
        vault=spec.vault,
        item=spec.item,
        op_user=spec.op_user,
        op_group=spec.op_group,
    ).exists()


@transaction.atomic
def propose(*, user: User, specs: list[ActionSpec], manual_reason: str = "") -> Landed:
    """Add `specs` to the person's page draft (the module docstring's steps 1-4). `manual_reason`
    makes the actions manual steps (a move no configured identity can write)."""
    if not specs:
        raise plans.PlanError("Nothing to propose.")
    scope.check_specs(user, specs)
    account = specs[0].vault.account if specs[0].vault else specs[0].op_user.account if specs[0].op_user else None
    if account is None:
        raise plans.PlanError("Nothing to propose.")
    plan = open_page_draft(account, user)
    if plan is not None:
        # Another tab may have submitted it since it was read: submit_plan holds the same lock, so
        # once we hold it a draft stays a draft until we commit, and a submitted plan (whose
        # approvers never saw this action) is left alone for a new draft.
        plan = CleanupPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status != CleanupPlan.Status.DRAFT:
            plan = None
    new_plan = plan is None
    if plan is None:
        plan = CleanupPlan.objects.create(
            account=account, proposed_by=user, title=PAGE_PLAN_TITLE.format(account=account.name)[:300]
        )
    landed = []
    for spec in specs:
        if _same_change(plan, spec):
            raise plans.PlanError(
                f"{ProposedAction.Kind(spec.kind).label} is already in your draft plan “{plan.title}”."
            )
        action = plans.add_action(plan=plan, spec=spec)
        _, problem = action_kinds.preview(action)
        if problem:
            raise plans.PlanError(problem)
        if manual_reason and action.identity != Identity.MANUAL:
            action.identity, action.identity_reason = Identity.MANUAL, manual_reason[:300]
            action.save(update_fields=["identity", "identity_reason"])
        landed.append(action)
    return Landed(plan=plan, actions=landed, new_plan=new_plan)


# --- bulk from the findings list ----------------------------------------------------------------


@dataclass
class BulkOutcome:
    plan: CleanupPlan | None
    selected: int
    addressed: int = 0
    no_action: Counter[str] = field(default_factory=Counter)
    capped: bool = False

    @property
    def not_addressed(self) -> int:
        return sum(self.no_action.values())


def _touches(spec: ActionSpec, vault: Vault) -> bool:
    # The action's own vaults first: every vault a consolidation's copies lie in costs a query.
    return vault in (spec.vault, spec.destination_vault) or vault in scope.spec_vaults(spec)


def bulk_proposal(*, findings: list[Finding], user: User, capped: bool = False, vault: Vault | None = None) -> BulkOutcome:
    """One new draft plan with the actions of every selected finding (plans.specs_for_finding),
    only the actions wholly inside the person's vaults; the rest counted per reason. Taken from a
    list filtered by `vault`, only the actions that touch that vault: the list holds findings
    about people that name it among others (vaults/findings/vault_scope.py), and their
    revocations in the other vaults are not what was asked for."""
    outcome = BulkOutcome(plan=None, selected=len(findings), capped=capped)
    accounts = {f.account_id for f in findings}
    if len(accounts) > 1:
        raise plans.PlanError("Select findings of one account for one plan (filter by vault or account first).")
    specs: list[ActionSpec] = []
    seen: set[tuple[object, ...]] = set()
    for finding in findings:
        found, reason = plans.specs_for_finding(finding)
        if vault is not None and found:
            found = [spec for spec in found if _touches(spec, vault)]
            if not found:
                outcome.no_action[f"acts only outside “{vault.name}”, the vault the list was filtered by"] += 1
                continue
        inside, outside = scope.keep_in_scope(user, found)
        if not inside:
            outcome.no_action["touches a vault you do not own" if outside else reason or "no action"] += 1
            continue
        outcome.addressed += 1
        for spec in inside:
            key = (spec.kind, spec.vault and spec.vault.pk, spec.item and spec.item.pk, spec.op_user and spec.op_user.pk,
                   spec.op_group and spec.op_group.pk)  # fmt: skip
            if key not in seen:
                seen.add(key)
                specs.append(spec)
    if specs:
        title = f"Cleanup of {outcome.addressed} selected finding{'s' if outcome.addressed != 1 else ''}"
        outcome.plan = plans.create_plan(account=findings[0].account, proposed_by=user, specs=specs, title=title)
    return outcome
