"""Rotation pages: the checklist a rotation's executor ticks, and the rotation policy. Thin
views over rotation.py; every POST is audit-logged and redirects."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from compliance import audit
from openclaw_web.http import HtmxHttpRequest, signed_in_user
from openclaw_web.roles import Capability, requires
from vaults.cleanup import plans, rotation
from vaults.cleanup.models import ProposedAction
from vaults.cleanup.policy_forms import RotationPolicyForm
from vaults.findings.models import Policy


@requires(Capability.APPROVE_CLEANUP)
@require_POST
def checklist_tick(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The executor ticks (or unticks) one step of a rotation's checklist."""
    action = get_object_or_404(ProposedAction.objects.select_related("plan"), pk=pk)
    key = str(request.POST.get("step", ""))[:100]
    done = request.POST.get("done", "1") == "1"
    try:
        action = rotation.tick(action=action, user=signed_in_user(request), key=key, done=done)
    except rotation.ChecklistRefused as error:
        messages.error(request, f"Action #{action.pk}: {error}")
    else:
        plans.refresh_status(action.plan)
    return redirect(reverse("cleanup:plan", args=[action.plan_id]) + f"#action-{action.pk}")


@requires(Capability.EDIT_POLICY)
def rotation_policy(request: HtmxHttpRequest) -> HttpResponse:
    """The global policy's rotation settings (a vault's override row still wins for that vault)."""
    policy = Policy.global_policy()
    effective = Policy.for_vault(None)
    form = RotationPolicyForm(request.POST or None, initial=RotationPolicyForm.initial_from(effective))
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            before = RotationPolicyForm.initial_from(effective)
            with transaction.atomic():
                policy.allow_generate_password = data["allow_generate_password"]
                policy.generate_password_categories = list(data["generate_password_categories"])
                policy.password_recipe = data["password_recipe"]
                policy.save(
                    update_fields=[
                        "allow_generate_password",
                        "generate_password_categories",
                        "password_recipe",
                        "updated_at",
                    ]
                )
                audit.record(
                    "policy.rotation_changed",
                    request=request,
                    target=policy,
                    details={"before": before, "after": RotationPolicyForm.initial_from(Policy.for_vault(None))},
                )
            messages.success(request, "Rotation policy saved. It applies to rotations proposed from now on.")
            return redirect("cleanup:rotation_policy")
        messages.error(request, "Not saved: " + "; ".join(str(e) for errors in form.errors.values() for e in errors))
    context = {"nav": "cleanup", "form": form, "policy": effective}
    return render(request, "cleanup/rotation_policy.html", context, status=400 if form.errors else 200)
