"""Executing approved actions through `op`, and settling what a later sync shows.

How one action runs (`execute_action`):
1. Only an APPROVED action runs; anything else is a no-op, so a retried or redelivered task
   never runs `op` twice for an action that is executing, done, failed or manual.
2. A manual-step action moves to MANUAL (no `op`): an administrator runs the shown command.
3. Approvals are re-checked: an action whose approvals expired goes back to PROPOSED.
4. Claim: `filter(pk=pk, status=APPROVED).update(status=EXECUTING)`, committed on its own. From
   here a crash leaves EXECUTING, which only `reconcile_after_sync` settles, never a re-run.
5. In one transaction: lock the vault rows the action touches (`select_for_update`, in pk order:
   writes are serialised per vault across workers), run the commands through `OpClient` (which
   retries 409/429 with backoff and full jitter), make the local rows follow, and store the
   outcome: DONE, FAILED with a readable error, or MANUAL when 1Password refused a service
   account a grant change (it did not create the vault after all).

A plan (`execute_plan`) runs its approved actions in order and stops at the first failure: the
rest stay approved (pending) and can be run again. Then one follow-up sync is queued (FULL if a
grant changed, else ITEMS) and `reconcile_after_sync` runs after it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from compliance import audit
from openclaw_web import dispatch
from vaults.cleanup import actions as action_kinds
from vaults.cleanup import notifications, rotation
from vaults.cleanup.approval import approvals_current
from vaults.cleanup.identities import NEEDS, IdentityUnavailable, Need, client_for_identity
from vaults.cleanup.models import CleanupPlan, ProposedAction
from vaults.cleanup.plans import org_counts, refresh_status
from vaults.findings.models import HealthSnapshot
from vaults.models import SyncRun, Vault
from vaults.op import OpError, OpInvalidArgument, OpPermissionDenied
from vaults.sync_queue import enqueue_sync

logger = logging.getLogger(__name__)

Status = ProposedAction.Status
Identity = ProposedAction.Identity
WORKER = "cleanup worker"
# An EXECUTING action older than this, seen by a sync that started after it, was interrupted:
# one action is at most a few op calls of OP_TIMEOUT_SECONDS (60 s) times 5 attempts each.
STALE_EXECUTING_AFTER = timedelta(minutes=30)


def _record(event: str, action: ProposedAction, **details: object) -> None:
    audit.record(
        f"cleanup.action.{event}",
        actor_label=WORKER,
        target=action,
        details={"plan": action.plan_id, "kind": action.kind, "identity": action.identity, **details},
    )


def _finish(
    action: ProposedAction,
    status: str,
    *,
    error: str = "",
    result: dict[str, object] | None = None,
    requests: int = 0,
    identity_reason: str = "",
) -> None:
    fields: dict[str, object] = {"status": status, "error": error[:4000], "op_requests": requests}
    if status != Status.MANUAL:
        fields["finished_at"] = timezone.now()
    if result is not None:
        fields["result"] = result
    if identity_reason:
        fields["identity"] = Identity.MANUAL
        fields["identity_reason"] = identity_reason[:300]
    ProposedAction.objects.filter(pk=action.pk, status=Status.EXECUTING).update(**fields)


def execute_action(*, action_id: int, now: datetime | None = None) -> ProposedAction:
    """Run one approved action (the numbered steps of the module docstring)."""
    now = now or timezone.now()
    action = ProposedAction.objects.select_related(
        "plan__account", "vault", "item__vault", "op_user", "op_group", "destination_vault"
    ).get(pk=action_id)
    if action.status != Status.APPROVED:
        return action
    if action.identity == Identity.MANUAL:
        if ProposedAction.objects.filter(pk=action.pk, status=Status.APPROVED).update(
            status=Status.MANUAL, started_at=now
        ):
            _record("manual_step", action, reason=action.identity_reason)
        return ProposedAction.objects.get(pk=action.pk)
    if not approvals_current(action, now=now):
        if ProposedAction.objects.filter(pk=action.pk, status=Status.APPROVED).update(
            status=Status.PROPOSED, error="The approval expired before the action ran: it needs approving again."
        ):
            _record("approval_expired", action)
        return ProposedAction.objects.get(pk=action.pk)
    if not ProposedAction.objects.filter(pk=action.pk, status=Status.APPROVED).update(
        status=Status.EXECUTING, started_at=now
    ):
        return ProposedAction.objects.get(pk=action.pk)  # another worker claimed it
    action.status = Status.EXECUTING

    client = None
    try:
        client = client_for_identity(action.plan.account, action.identity)
    except IdentityUnavailable as error:
        _finish(action, Status.FAILED, error=str(error))
    if client is not None:
        _run_locked(action, client)
    action = ProposedAction.objects.select_related("plan").get(pk=action.pk)
    _record(action.status, action, error=action.error[:500], result=action.result)
    return action


def _run_locked(action: ProposedAction, client: object) -> None:
    from vaults.op import OpClient

    assert isinstance(client, OpClient)
    with transaction.atomic():
        vault_ids = [v.pk for v in action_kinds.touched_vaults(action)]
        list(Vault.objects.select_for_update().filter(pk__in=vault_ids).order_by("pk").values_list("pk", flat=True))

        def save_progress(partial: dict[str, object]) -> None:
            ProposedAction.objects.filter(pk=action.pk).update(result={**action.result, **partial})

        try:
            result = action_kinds.run(action, client, on_progress=save_progress)
        except OpPermissionDenied as error:
            if NEEDS[action.kind] is Need.GROUP_MEMBERSHIP:
                # The privileged identity is not an owner, administrator or the group's manager.
                _finish(
                    action,
                    Status.MANUAL,
                    requests=client.requests,
                    error=f"1Password refused the privileged identity ({error}): an administrator removes the person.",
                    identity_reason="1Password refused the privileged identity: it may not manage this group.",
                )
            elif NEEDS[action.kind] is Need.GRANT_CHANGE and action.identity == Identity.SERVICE_ACCOUNT:
                _finish(
                    action,
                    Status.MANUAL,
                    requests=client.requests,
                    error=f"1Password refused the service account ({error}): run the command as an administrator.",
                    identity_reason="1Password refused the service account: it did not create this vault.",
                )
            else:
                _finish(action, Status.FAILED, error=_explain(error), requests=client.requests)
        except OpError as error:
            _finish(
                action,
                Status.FAILED,
                error=_explain(error),
                requests=client.requests,
                result=dict(ProposedAction.objects.get(pk=action.pk).result),
            )
        except (action_kinds.ActionNotPossible, OpInvalidArgument) as error:
            _finish(action, Status.FAILED, error=str(error), requests=client.requests)
        except Exception as error:  # a bug must not leave a silent EXECUTING row behind
            logger.exception("cleanup action %s failed unexpectedly", action.pk)
            _finish(
                action,
                Status.FAILED,
                error=f"Unexpected error ({type(error).__name__}); see the worker log.",
                requests=client.requests,
            )
        else:
            _finish(action, Status.DONE, result=result, requests=client.requests)


def _explain(error: OpError) -> str:
    hint = getattr(error, "hint", "")
    text = str(error)
    return f"{text} — {hint}" if hint and hint not in text else text


@dataclass
class PlanRun:
    done: list[int] = field(default_factory=list)
    manual: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    follow_up_sync: SyncRun | None = None


def execute_plan(*, plan_id: int) -> PlanRun:
    """Run the plan's approved actions in order, stopping at the first failure."""
    plan = CleanupPlan.objects.select_related("account").get(pk=plan_id)
    outcome = PlanRun()
    for action_id in list(
        plan.actions.filter(status=Status.APPROVED).order_by("position", "pk").values_list("pk", flat=True)
    ):
        action = execute_action(action_id=action_id)
        if action.status == Status.DONE:
            outcome.done.append(action.pk)
        elif action.status == Status.MANUAL:
            outcome.manual.append(action.pk)
        elif action.status == Status.FAILED:
            outcome.failed.append(action.pk)
            break
    CleanupPlan.objects.filter(pk=plan.pk).update(executed_at=timezone.now())
    refresh_status(plan)
    notifications.plan_executed(plan, done=outcome.done, manual=outcome.manual, failed=outcome.failed)
    if outcome.done:
        grants_changed = plan.actions.filter(pk__in=outcome.done, kind__in=action_kinds.ACCESS_KINDS).exists()
        outcome.follow_up_sync = queue_verification(plan=plan, full=grants_changed)
    return outcome


def queue_verification(*, plan: CleanupPlan, full: bool, triggered_by: object = None) -> SyncRun:
    """Queue a sync, and after it the reconciliation of this plan's actions."""
    scope = SyncRun.Scope.FULL if full else SyncRun.Scope.ITEMS
    run, _ = enqueue_sync(account=plan.account, scope=scope, triggered_by=triggered_by)
    CleanupPlan.objects.filter(pk=plan.pk).update(follow_up_sync=run)
    dispatch.after_commit("vaults.cleanup.tasks.reconcile_after_sync_task", plan.pk, run.pk)
    return run


def reconcile_after_sync(*, plan_id: int, sync_run_id: int, now: datetime | None = None) -> bool:
    """Settle the plan against what a finished sync stored; False while the sync is unfinished.

    1. Manual steps marked done become VERIFIED when the inventory shows their effect; otherwise
       they stay waiting, with a note naming the sync.
    2. Actions left EXECUTING by a crash (older than STALE_EXECUTING_AFTER and older than the
       sync) become DONE if the effect is there, else FAILED: never re-run blindly.
    3. The organisation's open findings and health score after the plan are recorded (findings
       are recomputed for this sync if the sync's own follow-up has not done so yet).
    """
    now = now or timezone.now()
    run = SyncRun.objects.select_related("account").get(pk=sync_run_id)
    if not run.is_finished:
        return False
    plan = CleanupPlan.objects.select_related("account").get(pk=plan_id)
    if run.status != SyncRun.Status.SUCCEEDED:
        ProposedAction.objects.filter(plan=plan, status=Status.MANUAL_DONE).update(
            verification_note=f"Sync #{run.pk} failed; verification waits for the next successful sync."
        )
        return True
    for action in plan.actions.filter(status=Status.MANUAL_DONE).select_related("vault", "plan"):
        if action_kinds.effect_visible(action, since=action.started_at):
            if action.kind == ProposedAction.Kind.ROTATE_SECRET:
                rotation.verify(action, sync_run_id=run.pk, changed=True)
            ProposedAction.objects.filter(pk=action.pk, status=Status.MANUAL_DONE).update(
                status=Status.VERIFIED, finished_at=now, verification_note=f"Confirmed by sync #{run.pk}."
            )
            _record("verified", action, sync_run=run.pk)
        else:
            ProposedAction.objects.filter(pk=action.pk).update(
                verification_note=f"Sync #{run.pk} does not show the change yet: check that the command ran."
            )
    _verify_rotations(plan, run)
    stale = plan.actions.filter(
        status=Status.EXECUTING, started_at__lt=min(run.created_at, now - STALE_EXECUTING_AFTER)
    )
    for action in stale.select_related("vault", "plan"):
        if action_kinds.effect_visible(action, since=action.started_at):
            ProposedAction.objects.filter(pk=action.pk, status=Status.EXECUTING).update(
                status=Status.DONE, finished_at=now, result={**action.result, "confirmed_by_sync": run.pk}
            )
            _record("done", action, confirmed_by_sync=run.pk)
        else:
            ProposedAction.objects.filter(pk=action.pk, status=Status.EXECUTING).update(
                status=Status.FAILED,
                finished_at=now,
                error=f"Interrupted while running; sync #{run.pk} shows the change was not made. "
                "It was not re-run automatically: propose it again.",
            )
            _record("failed", action, error="interrupted; not visible in sync", sync_run=run.pk)
    if not HealthSnapshot.objects.filter(sync_run=run, vault__isnull=True).exists():
        from vaults.findings.engine import compute_findings

        compute_findings(account=run.account, sync_run=run)
    plan.findings_after, plan.health_after = org_counts(plan.account)
    CleanupPlan.objects.filter(pk=plan.pk).update(findings_after=plan.findings_after, health_after=plan.health_after)
    refresh_status(plan)
    return True


def plans_with_unproven_rotations(account_id: int) -> set[int]:
    """Plans whose op-run rotations no sync has shown a new fingerprint for yet: every later
    sync checks them again (reconcile_account_plans_task)."""
    rows = ProposedAction.objects.filter(
        plan__account_id=account_id,
        kind=ProposedAction.Kind.ROTATE_SECRET,
        status=Status.DONE,
        result__fingerprint_verified_by_sync__isnull=True,
    )
    return set(rows.values_list("plan_id", flat=True))


def _verify_rotations(plan: CleanupPlan, run: SyncRun) -> None:
    """Rotations op ran: proven only when this sync stores a new fingerprint for the item."""
    pending = plan.actions.filter(kind=ProposedAction.Kind.ROTATE_SECRET, status=Status.DONE)
    for action in pending.select_related("plan"):
        if rotation.fingerprint_verified(action):
            continue
        if rotation.verify(action, sync_run_id=run.pk):
            _record("rotation_verified", action, sync_run=run.pk)
        else:
            _record("rotation_not_visible", action, sync_run=run.pk)


class StepRefused(Exception):
    """A manual-step or follow-up update that is not allowed now."""


def mark_manual_done(*, action: ProposedAction, user: object) -> ProposedAction:
    """A person says they ran the manual step; the next sync verifies it (not trusted blindly)."""
    now = timezone.now()
    if action.kind == ProposedAction.Kind.ROTATE_SECRET and not rotation.checklist_complete(
        ProposedAction.objects.get(pk=action.pk)
    ):
        raise StepRefused("Tick every step of the rotation checklist first: the services must use the new secret.")
    updated = ProposedAction.objects.filter(pk=action.pk, status=Status.MANUAL).update(
        status=Status.MANUAL_DONE,
        manual_done_by=user,
        manual_done_at=now,
        verification_note="Waiting for the next sync to confirm the change.",
    )
    if not updated:
        raise StepRefused("Only a manual step that is waiting for an administrator can be marked done.")
    plan = action.plan
    refresh_status(plan)
    queue_verification(plan=plan, full=action.kind in action_kinds.ACCESS_KINDS, triggered_by=user)
    return ProposedAction.objects.get(pk=action.pk)


def mark_follow_up_done(*, action: ProposedAction) -> ProposedAction:
    if not action.follow_up or action.status not in (Status.DONE, Status.VERIFIED):
        raise StepRefused("There is no follow-up to close: the action has not run or needs none.")
    ProposedAction.objects.filter(pk=action.pk, follow_up_done_at__isnull=True).update(follow_up_done_at=timezone.now())
    return ProposedAction.objects.get(pk=action.pk)


@dataclass
class DryRunLine:
    action: ProposedAction
    would: str  # "run", "manual step", "skip"
    why: str
    commands: list[str]
    requests: int


def dry_run(*, plan: CleanupPlan, now: datetime | None = None) -> list[DryRunLine]:
    """What executing the plan now would do, without running op: per action, whether it would
    run (and as whom, with which commands), become a manual step, or be skipped, and why."""
    now = now or timezone.now()
    lines = []
    for action in plan.actions.select_related(
        "vault", "item__vault", "op_user", "op_group", "destination_vault", "plan"
    ):
        commands, problem = action_kinds.preview(action)
        requests = action_kinds.estimated_requests(action)
        if action.status not in (Status.APPROVED, Status.PROPOSED):
            would, why = "skip", f"already {action.get_status_display().lower()}"
        elif problem:
            would, why = "skip", f"would fail: {problem}"
        elif action.identity == Identity.MANUAL:
            would, why = "manual step", action.identity_reason
        elif action.status == Status.PROPOSED:
            would, why = "skip", "not approved yet"
        elif not approvals_current(action, now=now):
            would, why = "skip", "its approval has expired: it would go back to awaiting approval"
        else:
            would, why = "run", f"as the {action.get_identity_display().lower()}"
        lines.append(DryRunLine(action=action, would=would, why=why, commands=commands, requests=requests))
    return lines
