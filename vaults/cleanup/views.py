"""Cleanup pages: thin views over plans.py, approval.py and execute.py. Every POST is
audit-logged and redirects (post/redirect/get); htmx requests get the fragment they swap."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.db.models import Count, Q
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseStopPolling

from compliance import audit
from openclaw_web import dispatch
from openclaw_web.http import HtmxHttpRequest, signed_in_user
from openclaw_web.roles import Capability, has_capability, requires
from vaults.cleanup import actions as action_kinds
from vaults.cleanup import approval, execute, manual_steps, plans, rotation, scope
from vaults.cleanup.forms import ACTIONABLE_KINDS, ActionEditForm, DecisionForm, GenerateForm, ProposeForm
from vaults.cleanup.models import CleanupPlan, ProposedAction
from vaults.cleanup.progress import execution_progress
from vaults.findings.models import Finding

Status = ProposedAction.Status


# The params a proposer's edit may change (plans.update_action); the audit row records only these.
EDITABLE_PARAMS = frozenset({"title", "tags", "url", "keep_item_id", "archive_item_ids"})


def _get_plan(pk: int) -> CleanupPlan:
    return get_object_or_404(CleanupPlan.objects.select_related("account", "proposed_by"), pk=pk)


def _get_action(pk: int) -> ProposedAction:
    related = ("plan__account", "plan__proposed_by", "vault", "item__vault", "op_user", "op_group", "destination_vault")
    return get_object_or_404(ProposedAction.objects.select_related(*related), pk=pk)


def _user(request: HtmxHttpRequest) -> User:
    """The signed-in user (`@requires` has already sent anonymous visitors away)."""
    return signed_in_user(request)


def _outside_scope(request: HtmxHttpRequest, error: scope.OutsideVaultScope, **details: Any) -> HttpResponse:
    """A lead proposing on a vault they do not own: audited, and a 403 naming the vault."""
    audit.record("cleanup.proposal.outside_scope", request=request, details={"reason": str(error), **details})
    return render(request, "403.html", {"exception": str(error)}, status=403)


def _to_plan(plan_id: int, anchor: str = "") -> HttpResponseRedirect:
    return redirect(reverse("cleanup:plan", args=[plan_id]) + anchor)


@requires(Capability.VIEW_CLEANUP)
def plan_list(request: HtmxHttpRequest) -> HttpResponse:
    counts = {f"n_{s.value}": Count("actions", filter=Q(actions__status=s)) for s in Status}
    rows = CleanupPlan.objects.select_related("account", "proposed_by").annotate(n_actions=Count("actions"), **counts)
    return render(request, "cleanup/index.html", {"nav": "cleanup", "plans": rows[:200]})


@requires(Capability.PROPOSE_CLEANUP)
def propose(request: HtmxHttpRequest) -> HttpResponse:
    """GET: pick findings and preview the actions; POST: create the draft plan."""
    form = ProposeForm(request.POST if request.method == "POST" else request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest(
            "Invalid selection: " + "; ".join(str(e) for errs in form.errors.values() for e in errs)
        )
    findings = list(form.cleaned_data["finding"].select_related("item__vault", "op_user", "vault", "account"))
    if request.method == "POST":
        if not findings:
            messages.error(request, "Select at least one finding.")
            return redirect("cleanup:propose")
        try:
            plan, skipped = plans.create_plan_from_findings(findings=findings, proposed_by=_user(request))
        except scope.OutsideVaultScope as error:
            return _outside_scope(request, error, findings=[f.pk for f in findings])
        except plans.PlanError as error:
            messages.error(request, str(error))
            return redirect(reverse("cleanup:propose") + "?" + "&".join(f"finding={f.pk}" for f in findings))
        audit.record(
            "cleanup.plan.proposed",
            request=request,
            target=plan,
            details={"findings": [f.pk for f in findings], "actions": plan.actions.count(), "skipped": len(skipped)},
        )
        for note in skipped[:10]:
            messages.warning(request, f"No action for {note}")
        messages.success(request, "Draft plan created: review the actions, then submit it for approval.")
        return _to_plan(plan.pk)
    proposal = plans.proposal_for(findings) if findings else None
    open_findings = Finding.objects.filter(status=Finding.Status.OPEN, kind__in=ACTIONABLE_KINDS)
    if form.cleaned_data["kind"]:
        open_findings = open_findings.filter(kind=form.cleaned_data["kind"])
    return render(
        request,
        "cleanup/propose.html",
        {
            "nav": "cleanup",
            "form": form,
            "findings": findings,
            "proposal": proposal,
            "specs": [(s, s.kind and ProposedAction.Kind(s.kind).label) for s in proposal.specs] if proposal else [],
            "open_findings": open_findings.select_related("vault", "item", "op_user")[:300],
        },
    )


@requires(Capability.PROPOSE_CLEANUP)
def generate(request: HtmxHttpRequest) -> HttpResponse:
    form = GenerateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        account = form.cleaned_data["account"]
        vaults = list(form.cleaned_data["vaults"].filter(account=account)) or None
        try:
            plan, skipped = plans.generate_plan(account=account, proposed_by=_user(request), vaults=vaults)
        except scope.OutsideVaultScope as error:
            return _outside_scope(request, error, account=account.pk, vaults=[v.pk for v in vaults or []])
        except plans.PlanError as error:
            messages.error(request, str(error))
            return redirect("cleanup:generate")
        audit.record(
            "cleanup.plan.generated",
            request=request,
            target=plan,
            details={"actions": plan.actions.count(), "vaults": [v.pk for v in vaults or []], "skipped": len(skipped)},
        )
        messages.success(request, "Six-phase plan generated as a draft: edit or remove actions, then submit it.")
        return _to_plan(plan.pk)
    return render(
        request, "cleanup/generate.html", {"nav": "cleanup", "form": form}, status=400 if form.errors else 200
    )


def _action_rows(plan: CleanupPlan, request: HtmxHttpRequest) -> list[dict[str, Any]]:
    rows = []
    related = ("vault", "item__vault", "op_user", "op_group", "destination_vault", "plan", "manual_done_by")
    for action in plan.actions.select_related(*related).prefetch_related("approvals__approver"):
        commands, problem = action_kinds.preview(action)
        keep, others = (
            action_kinds.consolidate_items(action)
            if action.kind == ProposedAction.Kind.CONSOLIDATE_DUPLICATES
            else (None, [])
        )
        rows.append(
            {
                "action": action,
                "commands": commands,
                "problem": problem,
                "effect": action_kinds.expected_effect(action),
                "target": action_kinds.target_label(action),
                "risky": action_kinds.is_risky(action),
                "required": approval.required_approvals(action),
                "current": len(approval.current_approver_ids(action)),
                "can_decide": not approval.refusal(action, _user(request)),
                "copies": [keep, *others] if keep else others,
                "candidates": action.param("candidate_item_ids", []),
                "manual_steps": manual_steps.instructions(action) if action.identity == "manual" else [],
                "checklist": rotation.steps(action) if action.kind == ProposedAction.Kind.ROTATE_SECRET else [],
                "rotation_state": rotation.state_label(action) if action.kind == ProposedAction.Kind.ROTATE_SECRET else "",
            }
        )
    return rows


@requires(Capability.VIEW_CLEANUP)
def plan_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    plan = plans.refresh_status(_get_plan(pk))
    rows = _action_rows(plan, request)
    is_proposer = plan.proposed_by_id == request.user.pk
    context = {
        "nav": "cleanup",
        "plan": plan,
        "rows": rows,
        "can_edit": is_proposer and plan.status == CleanupPlan.Status.DRAFT,
        "can_decide_plan": any(r["can_decide"] for r in rows) and not is_proposer,
        "can_execute": has_capability(request.user, Capability.APPROVE_CLEANUP)
        and any(r["action"].status == Status.APPROVED for r in rows),
        "can_mark_manual": has_capability(request.user, Capability.APPROVE_CLEANUP),
        "can_follow_up": has_capability(request.user, Capability.PROPOSE_CLEANUP),
        "can_tick": has_capability(request.user, Capability.APPROVE_CLEANUP),
        "kind_counts": plans.finding_counts(plan),
        "is_proposer": is_proposer,
        "polling": plan.status == CleanupPlan.Status.EXECUTING
        or any(r["action"].status == Status.MANUAL_DONE for r in rows),
        "estimated_requests": sum(
            action_kinds.estimated_requests(r["action"])
            for r in rows
            if r["action"].status in (Status.PROPOSED, Status.APPROVED)
        ),
    }
    if request.htmx:
        return render(request, "cleanup/_plan_body.html", context)
    return render(request, "cleanup/plan_detail.html", context)


@requires(Capability.VIEW_CLEANUP)
def dry_run(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    plan = _get_plan(pk)
    lines = execute.dry_run(plan=plan)
    context = {
        "nav": "cleanup",
        "plan": plan,
        "lines": lines,
        "requests": sum(line.requests for line in lines if line.would == "run"),
    }
    template = "cleanup/_dry_run.html" if request.htmx else "cleanup/dry_run.html"
    return render(request, template, context)


@requires(Capability.PROPOSE_CLEANUP)
@require_POST
def submit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    plan = _get_plan(pk)
    try:
        plans.submit_plan(plan=plan, user=_user(request), request=request)
    except plans.PlanError as error:
        messages.error(request, str(error))
        return _to_plan(plan.pk)
    messages.success(request, "Submitted: an approver (not you) decides next.")
    return _to_plan(plan.pk)


@requires(Capability.PROPOSE_CLEANUP)
@require_POST
def action_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    action = _get_action(pk)
    form = ActionEditForm(request.POST)
    if not form.is_valid():
        # The person sees why (e.g. hidden characters in a new title) on the plan, as for a PlanError.
        for error in (e for errors in form.errors.values() for e in errors):
            messages.error(request, f"Action #{action.pk}: {error}")
        return _to_plan(action.plan_id, f"#action-{action.pk}")
    values = {k: v for k, v in form.cleaned_data.items() if v not in (None, "") and k in request.POST}
    before = dict(action.params)
    try:
        plans.update_action(action=action, user=_user(request), values=values)
    except scope.OutsideVaultScope as error:
        return _outside_scope(request, error, action=action.pk)
    except plans.PlanError as error:
        messages.error(request, f"Action #{action.pk}: {error}")
        return _to_plan(action.plan_id, f"#action-{action.pk}")
    audit.record(
        "cleanup.action.edited",
        request=request,
        target=action,
        # Only what the edit changed: a rotation's params also hold fingerprint references and
        # its readers' addresses, which have no place in an exported audit log.
        details={
            "plan": action.plan_id,
            "changed": {k: v for k, v in action.params.items() if before.get(k) != v and k in EDITABLE_PARAMS},
            "destination_vault": action.destination_vault_id,
        },
    )
    return _to_plan(action.plan_id, f"#action-{action.pk}")


@requires(Capability.PROPOSE_CLEANUP)
@require_POST
def action_remove(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    action = _get_action(pk)
    plan_id, kind = action.plan_id, action.kind
    try:
        plans.remove_action(action=action, user=_user(request))
    except plans.PlanError as error:
        messages.error(request, str(error))
        return _to_plan(plan_id)
    audit.record(
        "cleanup.action.removed",
        request=request,
        target_type="cleanup.proposedaction",
        target_id=str(pk),
        details={"plan": plan_id, "kind": kind},
    )
    return _to_plan(plan_id)


def _decide_action(request: HtmxHttpRequest, pk: int, *, approve: bool) -> HttpResponse:
    action = _get_action(pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Invalid comment.")
    comment = form.cleaned_data["comment"]
    decide = approval.approve_action if approve else approval.reject_action
    try:
        action = decide(action=action, approver=_user(request), comment=comment)
    except approval.ApprovalRefused as error:
        audit.record("cleanup.action.decision_refused", request=request, target=action, details={"reason": str(error)})
        messages.error(request, str(error))
        return HttpResponse(str(error), status=403) if request.htmx else _to_plan(action.plan_id)
    audit.record(
        "cleanup.action.approved" if approve else "cleanup.action.rejected",
        request=request,
        target=action,
        details={"plan": action.plan_id, "comment": comment, "status": action.status},
    )
    return _to_plan(action.plan_id, f"#action-{action.pk}")


@requires(Capability.APPROVE_CLEANUP)
@require_POST
def action_approve(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _decide_action(request, pk, approve=True)


@requires(Capability.APPROVE_CLEANUP)
@require_POST
def action_reject(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _decide_action(request, pk, approve=False)


def _decide_plan(request: HtmxHttpRequest, pk: int, *, approve: bool) -> HttpResponse:
    plan = _get_plan(pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Invalid comment.")
    comment = form.cleaned_data["comment"]
    decide = approval.approve_plan if approve else approval.reject_plan
    try:
        decision = decide(plan=plan, approver=_user(request), comment=comment)
    except approval.ApprovalRefused as error:
        audit.record("cleanup.plan.decision_refused", request=request, target=plan, details={"reason": str(error)})
        messages.error(request, str(error))
        return _to_plan(plan.pk) if not request.htmx else HttpResponse(str(error), status=403)
    audit.record(
        "cleanup.plan.approved" if approve else "cleanup.plan.rejected",
        request=request,
        target=plan,
        details={"comment": comment, "actions": decision.decided, "refused": decision.refused},
    )
    messages.success(request, f"{'Approved' if approve else 'Rejected'} {len(decision.decided)} action{pluralize(len(decision.decided))}.")
    for note in decision.refused[:10]:
        messages.warning(request, note)
    return _to_plan(plan.pk)


@requires(Capability.APPROVE_CLEANUP)
@require_POST
def plan_approve(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _decide_plan(request, pk, approve=True)


@requires(Capability.APPROVE_CLEANUP)
@require_POST
def plan_reject(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _decide_plan(request, pk, approve=False)


@requires(Capability.APPROVE_CLEANUP)
@require_POST
def plan_execute(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    plan = _get_plan(pk)
    approved = list(plan.actions.filter(status=Status.APPROVED).values_list("pk", flat=True))
    if not approved:
        messages.error(request, "Nothing to execute: no action is approved and waiting.")
        return _to_plan(plan.pk)
    audit.record("cleanup.plan.execution_requested", request=request, target=plan, details={"actions": approved})
    dispatch.after_commit("vaults.cleanup.tasks.execute_plan_task", plan.pk)
    messages.success(
        request, f"Execution queued for {len(approved)} approved action{pluralize(len(approved))}; its progress shows below."
    )
    return _to_plan(plan.pk, "#plan-execution")


@requires(Capability.VIEW_CLEANUP)
def plan_progress(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The polling target of the plan page's execution box; once the run has ended it reloads the
    plan body once (every action's row) and stops polling."""
    plan = _get_plan(pk)
    progress = execution_progress(plan)
    context = {"plan": plan, "progress": progress, "refresh_plan": not progress.is_active}
    response = render(request, "cleanup/_plan_execution.html", context)
    return response if progress.is_active else HttpResponseStopPolling(response.content)


@requires(Capability.APPROVE_CLEANUP)
@require_POST
def manual_done(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    action = _get_action(pk)
    try:
        execute.mark_manual_done(action=action, user=_user(request))
    except execute.StepRefused as error:
        messages.error(request, str(error))
        return _to_plan(action.plan_id)
    audit.record("cleanup.action.manual_done", request=request, target=action, details={"plan": action.plan_id})
    messages.success(request, "Marked done. The next sync verifies the change.")
    return _to_plan(action.plan_id, f"#action-{action.pk}")


@requires(Capability.PROPOSE_CLEANUP)
@require_POST
def follow_up_done(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    action = _get_action(pk)
    try:
        execute.mark_follow_up_done(action=action)
    except execute.StepRefused as error:
        messages.error(request, str(error))
        return _to_plan(action.plan_id)
    audit.record("cleanup.action.follow_up_done", request=request, target=action, details={"plan": action.plan_id})
    return _to_plan(action.plan_id, f"#action-{action.pk}")
