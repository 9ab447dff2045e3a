"""Proposing cleanup: actions from findings (one or many), the generated six-phase plan, the
proposer's edits while the plan is a draft, and submitting it for approval.

A plan starts as a DRAFT that only its proposer edits; submitting moves it to PROPOSED, where
approvers decide per action or for the whole plan (approval.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import slugify

from compliance import audit
from vaults.access import ELEVATED_PERMISSIONS, normalise_permissions
from vaults.cleanup import actions as action_kinds
from vaults.cleanup import notifications, rotation, scope
from vaults.cleanup.identities import IdentityChoice, choose_identity, choose_move_identity
from vaults.cleanup.models import CleanupPlan, ProposedAction
from vaults.cleanup.naming import suggested_title
from vaults.cleanup.specs import ActionSpec
from vaults.findings.copies import describe, not_copies_of
from vaults.findings.health import latest_snapshot
from vaults.findings.models import Finding, Policy
from vaults.findings.sync_identity import is_sync_identity
from vaults.models import Account, Item, OpGroup, Vault, VaultGrant
from vaults.op import OpInvalidArgument

Kind = ProposedAction.Kind
Phase = ProposedAction.Phase
Identity = ProposedAction.Identity

ROTATION_KINDS = {Finding.Kind.WEAK, Finding.Kind.OVERDUE_ROTATION, Finding.Kind.ROTATION_DUE_SOON}
PHASE_OF_FINDING: dict[str, int] = {
    Finding.Kind.DUPLICATE: Phase.CONSOLIDATE,
    Finding.Kind.UNCLEAR_NAME: Phase.NAMES,
    Finding.Kind.OVER_PERMISSIONED: Phase.PERMISSIONS,
    Finding.Kind.ORPHANED: Phase.ORPHANED,
    Finding.Kind.WEAK: Phase.ROTATE,
    # One secret behind several services: every service but one gets its own (rotate), and
    # nothing is archived — each item is a live credential (vaults/findings/reused_secret.py).
    Finding.Kind.REUSED_SECRET: Phase.ROTATE,
    Finding.Kind.MISSING_METADATA: Phase.METADATA,
}
# Findings the generated plan works through, in phase order.
GENERATED_KINDS: list[str] = list(PHASE_OF_FINDING)


class PlanError(Exception):
    """A proposal or edit that cannot be accepted; the message is for the person."""


@dataclass
class Proposal:
    specs: list[ActionSpec]
    skipped: list[str]  # findings that produce no action, with the reason


def suggested_tags(item: Item) -> list[str]:
    tags = [t for t in item.tags or [] if t]
    for tag in (f"vault-{slugify(item.vault.name)[:40]}", item.vault.classification):
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def _revocations(finding: Finding) -> list[ActionSpec]:
    user = finding.op_user
    if user is None or is_sync_identity(user, finding.account):
        return []  # OpenClaw's own identity is never proposed for revocation
    details = finding.details or {}
    vault_ids = details.get("vault_ids") or []
    elevated_by_name: dict[str, list[str]] = details.get("elevated") or {}
    unused = set(details.get("unused") or [])
    specs = []
    grants = VaultGrant.objects.filter(
        user=user, vault_id__in=vault_ids, vault__removed_at__isnull=True
    ).select_related("vault")
    for grant in grants.order_by("vault__name"):
        direct = sorted(normalise_permissions(grant.permissions))
        if user.state_class == "inactive" or grant.vault.name in unused:
            perms = direct
        elif grant.vault.name in elevated_by_name:
            perms = sorted(set(direct) & ELEVATED_PERMISSIONS)
        else:
            continue
        if perms:
            specs.append(
                ActionSpec(Kind.REVOKE_USER, grant.vault, op_user=user, params={"permissions": perms}, finding=finding)
            )
    return specs


def _group_access_hint(finding: Finding) -> str:
    """Why no revocation is proposed, and what a person does instead: revoking a group's vault
    access would cut off every member, so the person leaves the group (or, a leaver, is deleted)."""
    user = finding.op_user
    if user is None:
        return "no person named"
    if is_sync_identity(user, finding.account):
        return "OpenClaw's own sync identity is never revoked"
    groups = sorted(
        set(
            OpGroup.objects.filter(
                memberships__user=user, grants__vault_id__in=(finding.details or {}).get("vault_ids") or []
            ).values_list("name", flat=True)
        )
    )
    if not groups:
        return "no direct grant to revoke"
    names = ", ".join(f"“{g}”" for g in groups)
    leaver = " (or, for a leaver, delete the suspended account under People → the person → ⋯ → Delete)"
    return (
        f"no direct grant to revoke: access comes through the group{'s' if len(groups) > 1 else ''} {names}. "
        f"In 1Password.com → Groups → each group → Members, remove {user}{leaver if user.state_class == 'inactive' else ''}; "
        "revoking the group's vault access would cut off every member. The next sync resolves the finding"
    )


def specs_for_finding(finding: Finding) -> tuple[list[ActionSpec], str]:
    """(actions that address the finding, reason when there are none)."""
    kind = finding.kind
    item = finding.item
    phase = PHASE_OF_FINDING.get(kind, Phase.NONE)
    if not finding.is_open:
        return [], "the finding is not open"
    if kind == Finding.Kind.OVER_PERMISSIONED:
        specs = _revocations(finding)
        for spec in specs:
            spec.phase = phase
        return specs, "" if specs else _group_access_hint(finding)
    if kind == Finding.Kind.DUPLICATE:
        members = list(finding.related_items.filter(archived=False, removed_at__isnull=True).select_related("vault"))
        if len(members) < 2:
            return [], "fewer than two copies remain"
        return _consolidation(finding, members, phase)
    if kind == Finding.Kind.REUSED_SECRET:
        return _reused_rotations(finding)
    if item is None or not item.is_active:
        return [], "the item is gone or archived"
    vault = item.vault
    if kind == Finding.Kind.ORPHANED:
        return [ActionSpec(Kind.ARCHIVE_ITEM, vault, item=item, finding=finding, phase=phase)], ""
    if kind == Finding.Kind.UNCLEAR_NAME:
        return [
            ActionSpec(
                Kind.RENAME_ITEM,
                vault,
                item=item,
                params={"title": suggested_title(item)},
                finding=finding,
                phase=phase,
            )
        ], ""
    return _item_specs(finding, item, phase)


def _keep_first(members: list[Item]) -> list[Item]:
    """Members in keep order: production first, then the oldest."""
    return sorted(
        members,
        key=lambda i: (
            i.vault.classification != Vault.Classification.PRODUCTION,
            i.op_created_at or timezone.now(),
            i.pk,
        ),
    )


def _consolidation(finding: Finding, members: list[Item], phase: int) -> tuple[list[ActionSpec], str]:
    """Keep one copy, archive the others — only items that are copies of the kept one (same
    secret, same service); anything else in the group is refused by name."""
    keep, *rest = _keep_first(members)
    strangers = not_copies_of(keep, rest)
    copies = [i for i in rest if i not in strangers]
    if not copies:
        return [], f"{describe(strangers)} are not copies of “{keep.title}” ({keep.vault.name}): nothing to archive"
    return [
        ActionSpec(
            Kind.CONSOLIDATE_DUPLICATES,
            keep.vault,
            params={
                "keep_item_id": keep.pk,
                "archive_item_ids": [i.pk for i in copies],
                "candidate_item_ids": [keep.pk, *(i.pk for i in copies)],
            },
            finding=finding,
            phase=phase,
        )
    ], ""


def _rotation(finding: Finding, item: Item) -> ActionSpec:
    """A rotation of `item`: through op where the policy allows it, else a guided manual step."""
    return ActionSpec(
        Kind.ROTATE_SECRET,
        item.vault,
        item=item,
        params=rotation.rotation_params(item, Policy.for_vault(item.vault)),
        finding=finding,
        phase=Phase.ROTATE,
    )


def _reused_rotations(finding: Finding) -> tuple[list[ActionSpec], str]:
    """One secret behind several services: rotate every item but the kept one; never archive."""
    members = _keep_first(
        list(finding.related_items.filter(archived=False, removed_at__isnull=True).select_related("vault"))
    )
    if len(members) < 2:
        return [], "fewer than two services still use the secret"
    return [_rotation(finding, other) for other in members[1:]], ""


def _item_specs(finding: Finding, item: Item, phase: int) -> tuple[list[ActionSpec], str]:
    kind = finding.kind
    vault = item.vault
    if kind in ROTATION_KINDS:
        if not item.secret_fields.exists():
            return [], "the item has no secret field"
        return [_rotation(finding, item)], ""
    if kind == Finding.Kind.MISSING_METADATA:
        missing = (finding.details or {}).get("missing", [])
        if "tags" in missing:
            return [
                ActionSpec(
                    Kind.SET_TAGS, vault, item=item, params={"tags": suggested_tags(item)}, finding=finding, phase=phase
                )
            ], ""
        return [], "only a URL or description is missing: add it in 1Password (no safe default)"
    return [], f"no cleanup action for {finding.get_kind_display().lower()} findings"


def proposal_for(findings: Iterable[Finding]) -> Proposal:
    specs: list[ActionSpec] = []
    skipped: list[str] = []
    seen: set[tuple[str, int | None, int | None, int | None]] = set()
    for finding in findings:
        found, reason = specs_for_finding(finding)
        if not found:
            skipped.append(f"{finding.title}: {reason}")
        for spec in found:
            key = (
                spec.kind,
                spec.item.pk if spec.item else None,
                spec.op_user.pk if spec.op_user else None,
                spec.vault.pk if spec.vault else None,
            )
            if key not in seen:
                seen.add(key)
                specs.append(spec)
    return Proposal(specs=specs, skipped=skipped)


def add_action(*, plan: CleanupPlan, spec: ActionSpec, position: int | None = None) -> ProposedAction:
    if position is None:
        position = (plan.actions.aggregate(m=Max("position"))["m"] or 0) + 1
    action = ProposedAction(
        plan=plan,
        position=position,
        phase=spec.phase,
        kind=spec.kind,
        vault=spec.vault,
        item=spec.item,
        op_user=spec.op_user,
        op_group=spec.op_group,
        destination_vault=spec.destination_vault,
        params=spec.params,
        finding=spec.finding,
    )
    if spec.kind == Kind.ROTATE_SECRET and spec.item is not None and "checklist" not in action.params:
        # Proposed elsewhere (item page, tests) with a recipe only: record the guided workflow too.
        action.params = {**rotation.rotation_params(spec.item, Policy.for_vault(spec.vault)), **action.params}
    _assign_identity(action, plan.account)
    action.save()
    return action


def _assign_identity(action: ProposedAction, account: Account) -> None:
    vaults = (
        [action.vault] if action.kind == Kind.CONSOLIDATE_DUPLICATES and not action.pk and action.vault else []
    )
    if action.kind == Kind.MOVE_ITEM and action.vault is not None and action.destination_vault is not None:
        choice = choose_move_identity(account, source=action.vault, destination=action.destination_vault)
    else:
        choice = choose_identity(kind=action.kind, account=account, vaults=vaults or action_kinds.touched_vaults(action))
    if action.kind == Kind.ROTATE_SECRET and not action.param("via_op", True) and choice.identity != Identity.MANUAL:
        choice = IdentityChoice(Identity.MANUAL, str(action.param("mode_reason", "")) or "A person rotates it.")
    action.identity = choice.identity
    action.identity_reason = choice.reason[:300]


@transaction.atomic
def create_plan(
    *,
    account: Account,
    proposed_by: User,
    specs: list[ActionSpec],
    title: str,
    source: str = CleanupPlan.Source.FINDING,
) -> CleanupPlan:
    if not specs:
        raise PlanError("None of the selected findings can be addressed by a cleanup action.")
    plan = CleanupPlan.objects.create(account=account, proposed_by=proposed_by, title=title[:300], source=source)
    for position, spec in enumerate(sorted(specs, key=lambda s: s.phase or 99), start=1):
        add_action(plan=plan, spec=spec, position=position)
    return plan


def create_plan_from_findings(*, findings: list[Finding], proposed_by: User) -> tuple[CleanupPlan, list[str]]:
    accounts = {f.account_id for f in findings}
    if len(accounts) != 1:
        raise PlanError("Select findings of one account for one plan.")
    proposal = proposal_for(findings)
    scope.check_specs(proposed_by, proposal.specs)  # a lead proposes only on vaults they own
    title = findings[0].title if len(findings) == 1 else f"Cleanup of {len(findings)} findings"
    plan = create_plan(account=findings[0].account, proposed_by=proposed_by, specs=proposal.specs, title=title)
    return plan, proposal.skipped


def generate_plan(
    *, account: Account, proposed_by: User, vaults: list[Vault] | None = None
) -> tuple[CleanupPlan, list[str]]:
    """The six-phase plan over the account's open findings (optionally only some vaults):
    consolidate duplicates, standardise names, right-size permissions, archive orphaned, rotate
    weak, enrich metadata. An item is touched by its first phase only (an archived duplicate is
    not renamed afterwards)."""
    vaults = scope.generation_vaults(user=proposed_by, account=account, vaults=vaults)  # a lead: own vaults only
    findings = Finding.objects.filter(account=account, status=Finding.Status.OPEN, kind__in=GENERATED_KINDS)
    if vaults is not None:
        findings = findings.filter(vault__in=vaults) | findings.filter(
            vault__isnull=True, kind__in=[Finding.Kind.DUPLICATE, Finding.Kind.REUSED_SECRET]
        )
    findings = findings.select_related("item__vault", "op_user", "vault").order_by("severity_rank", "pk")
    ordered = sorted(findings, key=lambda f: GENERATED_KINDS.index(f.kind))
    proposal = proposal_for(ordered)
    proposal.specs, outside = scope.keep_in_scope(proposed_by, proposal.specs)
    proposal.skipped += outside
    # An item archived by phase 1 (a duplicate copy) or 4 (orphaned) is not renamed, tagged or
    # rotated by the other phases: two passes, archive decisions first.
    archived: set[int] = set()
    # Items behind a reused secret are live credentials of their services: never archived.
    live = set(
        Finding.related_items.through.objects.filter(
            finding__account=account, finding__kind=Finding.Kind.REUSED_SECRET, finding__status=Finding.Status.OPEN
        ).values_list("item_id", flat=True)
    )
    kept: list[ActionSpec] = []
    for spec in proposal.specs:
        if spec.kind == Kind.CONSOLIDATE_DUPLICATES:
            copies = {*spec.params.get("archive_item_ids", []), spec.params.get("keep_item_id")}
            if copies & archived:
                continue
            archived |= set(spec.params.get("archive_item_ids", []))
        elif spec.kind == Kind.ARCHIVE_ITEM and spec.item is not None:
            if spec.item.pk in live:
                proposal.skipped.append(f"{spec.item.title}: its secret is reused by another service; rotate, do not archive")
                continue
            if spec.item.pk in archived:
                continue
            archived.add(spec.item.pk)
        kept.append(spec)
    specs = [
        s
        for s in kept
        if s.kind in (Kind.ARCHIVE_ITEM, Kind.CONSOLIDATE_DUPLICATES) or s.item is None or s.item.pk not in archived
    ]
    when = timezone.now().strftime("%Y-%m-%d")
    plan = create_plan(
        account=account,
        proposed_by=proposed_by,
        specs=specs,
        title=f"Six-phase cleanup of {account.name} ({when})",
        source=CleanupPlan.Source.GENERATED,
    )
    return plan, proposal.skipped


# --- the proposer's edits while drafting ---------------------------------------------------------


def _check_draft(plan: CleanupPlan, user: User) -> None:
    if plan.status != CleanupPlan.Status.DRAFT:
        raise PlanError("Only a draft plan can be changed; this one is already submitted.")
    if plan.proposed_by_id != user.pk:
        raise PlanError("Only the person who proposed the plan can change it.")


def update_action(*, action: ProposedAction, user: User, values: dict[str, Any]) -> ProposedAction:
    """Apply the proposer's edit (title, tags, url, kept item, destination) and validate it by
    building the op command it would run."""
    _check_draft(action.plan, user)
    params = dict(action.params)
    kind = action.kind
    if kind == Kind.RENAME_ITEM and "title" in values:
        params["title"] = str(values["title"]).strip()
    elif kind == Kind.SET_TAGS and "tags" in values:
        params["tags"] = [t.strip() for t in str(values["tags"]).split(",") if t.strip()]
    elif kind == Kind.SET_URL and "url" in values:
        params["url"] = str(values["url"]).strip()
    elif kind == Kind.CONSOLIDATE_DUPLICATES and values.get("keep_item_id"):
        candidates = [int(i) for i in params.get("candidate_item_ids", [])]
        keep = int(values["keep_item_id"])
        if keep not in candidates:
            raise PlanError("Keep one of the duplicate copies.")
        params["keep_item_id"] = keep
        params["archive_item_ids"] = [i for i in candidates if i != keep]
        kept = Item.objects.select_related("vault").get(pk=keep)
        action.vault = kept.vault
    elif kind == Kind.MOVE_ITEM and values.get("destination_vault"):
        action.destination_vault = values["destination_vault"]
    action.params = params
    try:
        action_kinds.commands_for(action)
    except (OpInvalidArgument, action_kinds.ActionNotPossible) as error:
        raise PlanError(str(error)) from error
    scope.check_vaults(user, action_kinds.touched_vaults(action))  # e.g. a move into another lead's vault
    _assign_identity(action, action.plan.account)
    action.save()
    return action


def remove_action(*, action: ProposedAction, user: User) -> None:
    _check_draft(action.plan, user)
    action.delete()


def org_counts(account: Account) -> tuple[int, int | None]:
    open_findings = Finding.objects.filter(account=account, status=Finding.Status.OPEN).count()
    snapshot = latest_snapshot(account=account)
    return open_findings, snapshot.score if snapshot else None


@transaction.atomic
def submit_plan(*, plan: CleanupPlan, user: User, request: HttpRequest | None = None) -> CleanupPlan:
    """Draft → proposed. Every action must build a valid command first. The plan's row is locked,
    so no action lands in it between these checks and the status change (page_proposals.propose
    takes the same lock). The submission is audit-logged here, so every path (the plan page, an
    offboarding case, an ended access, a review's revocations) writes its one entry; a page passes
    its `request` for the client's address."""
    CleanupPlan.objects.select_for_update().filter(pk=plan.pk).values_list("pk").get()
    plan.refresh_from_db()  # the caller's object moves to PROPOSED with the row
    _check_draft(plan, user)
    actions = list(plan.actions.select_related("vault", "item", "op_user", "op_group", "destination_vault"))
    if not actions:
        raise PlanError("The plan has no actions.")
    for action in actions:
        _, problem = action_kinds.preview(action)
        if problem:
            raise PlanError(f"{action.get_kind_display()} #{action.pk}: {problem}")
    plan.findings_before, plan.health_before = org_counts(plan.account)
    plan.status = CleanupPlan.Status.PROPOSED
    plan.submitted_at = timezone.now()
    plan.save(update_fields=["status", "submitted_at", "findings_before", "health_before"])
    notifications.plan_submitted(plan)
    audit.record("cleanup.plan.submitted", actor=user, request=request, target=plan, details={"actions": len(actions)})
    return plan


def refresh_status(plan: CleanupPlan) -> CleanupPlan:
    """Derive the plan's status from its actions (drafts stay drafts)."""
    if plan.status == CleanupPlan.Status.DRAFT:
        return plan
    statuses = list(plan.actions.values_list("status", flat=True))
    S = ProposedAction.Status
    if not statuses or all(s == S.REJECTED for s in statuses):
        new = CleanupPlan.Status.REJECTED
    elif S.EXECUTING in statuses:
        new = CleanupPlan.Status.EXECUTING
    elif S.FAILED in statuses or S.MANUAL in statuses or S.MANUAL_DONE in statuses or rotations_open(plan):
        new = CleanupPlan.Status.ATTENTION
    elif S.PROPOSED in statuses:
        new = CleanupPlan.Status.PROPOSED
    elif S.APPROVED in statuses:
        new = CleanupPlan.Status.APPROVED
    else:
        new = CleanupPlan.Status.FINISHED
    if new != plan.status:
        CleanupPlan.objects.filter(pk=plan.pk).update(status=new)
        plan.status = new
    return plan


def rotations_open(plan: CleanupPlan) -> bool:
    """A rotation that ran but whose checklist or fingerprint proof is missing keeps the plan
    needing attention: the secret is not rotated until its services use the new one."""
    done = plan.actions.filter(kind=Kind.ROTATE_SECRET, status__in=[ProposedAction.Status.DONE])
    return any(not rotation.is_complete(action) for action in done)


@dataclass
class KindCount:
    kind: str
    label: str
    now: int  # open findings of this kind in the account now
    after: int  # expected once the plan's actions (not rejected or failed) have run


def finding_counts(plan: CleanupPlan) -> list[KindCount]:
    """Per finding kind the plan addresses (and every kind of the six phases for a generated
    plan): open findings now → expected after. A finding counts as addressed when an action
    targets it, or when the plan archives its item (an archived item's findings resolve)."""
    S = ProposedAction.Status
    live = plan.actions.exclude(status__in=[S.REJECTED, S.FAILED])
    addressed = set(live.exclude(finding__isnull=True).values_list("finding_id", flat=True))
    archived: set[int] = {i for i in live.filter(kind=Kind.ARCHIVE_ITEM).values_list("item_id", flat=True) if i}
    for params in live.filter(kind=Kind.CONSOLIDATE_DUPLICATES).values_list("params", flat=True):
        archived |= {int(i) for i in (params or {}).get("archive_item_ids", [])}
    kinds = list(dict.fromkeys(live.exclude(finding__isnull=True).values_list("finding__kind", flat=True)))
    if plan.source == CleanupPlan.Source.GENERATED:
        kinds = list(dict.fromkeys([*GENERATED_KINDS, *kinds]))
    open_findings = Finding.objects.filter(account=plan.account, status=Finding.Status.OPEN, kind__in=kinds)
    now: dict[str, int] = dict.fromkeys(kinds, 0)
    gone: dict[str, int] = dict.fromkeys(kinds, 0)
    for pk, kind, item_id in open_findings.values_list("pk", "kind", "item_id"):
        now[kind] += 1
        if pk in addressed or (item_id is not None and item_id in archived):
            gone[kind] += 1
    return [KindCount(k, str(Finding.Kind(k).label), now[k], now[k] - gone[k]) for k in kinds]
