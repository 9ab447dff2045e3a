"""Proposing from the pages where a person meets the problem: thin views over page_proposals.py.

GET shows a small form; POST adds the action(s) to the person's page draft and redirects to it.
A lead outside the vault's scope gets the audited 403 of views.py; every proposal is audited.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from compliance import audit
from openclaw_web.http import HtmxHttpRequest, signed_in_user
from openclaw_web.roles import Capability, requires
from vaults.cleanup import page_proposals, plans, scope
from vaults.cleanup.naming import suggested_title
from vaults.cleanup.page_forms import DESCRIPTION_NOTE, ArchiveForm, MetadataForm, MoveForm, RenameForm, RevokeForm
from vaults.cleanup.page_proposals import Landed
from vaults.cleanup.plans import suggested_tags
from vaults.cleanup.specs import ActionSpec
from vaults.findings.forms import FindingFilterForm
from vaults.findings.models import Finding
from vaults.findings.search import filtered_findings
from vaults.findings.sync_identity import is_sync_identity
from vaults.models import Item, OpGroup, OpUser, Vault, VaultGrant

ITEM_CHANGES = {
    "metadata": "Set URL and tags",
    "rename": "Rename",
    "move": "Move to another vault",
    "archive": "Archive",
}


def _outside_scope(request: HtmxHttpRequest, where: Vault, **details: Any) -> HttpResponse:
    """The same audited 403 as the plan pages (views.py), naming the vault."""
    reason = scope.refusal_message([where])
    audit.record("cleanup.proposal.outside_scope", request=request, details={"reason": reason, **details})
    return render(request, "403.html", {"exception": reason}, status=403)


def _landed(request: HtmxHttpRequest, landed: Landed, **details: Any) -> HttpResponse:
    for action in landed.actions:
        audit.record(
            "cleanup.action.proposed_from_page",
            request=request,
            target=action,
            details={"plan": landed.plan.pk, "kind": action.kind, "params": action.params,
                     "identity": action.identity, "new_plan": landed.new_plan, **details},
        )  # fmt: skip
    messages.success(request, landed.message())
    return redirect(reverse("cleanup:plan", args=[landed.plan.pk]) + f"#action-{landed.actions[-1].pk}")


def _item_form(change: str, item: Item, data: QueryDict | None, request: HtmxHttpRequest) -> forms.Form:
    if change == "metadata":
        finding = request.GET.get("finding", "")
        initial = {"tags": ", ".join(suggested_tags(item)), "finding": finding if finding.isdigit() else None}
        return MetadataForm(data, initial=initial)
    if change == "rename":
        return RenameForm(data, initial={"title": suggested_title(item)})
    if change == "move":
        return MoveForm(data, destinations=page_proposals.move_destinations(item, request.user))
    return ArchiveForm(data)


def _item_specs(change: str, item: Item, form: forms.Form) -> tuple[list[ActionSpec], str]:
    """(actions, manual-step reason) from a valid form."""
    data = form.cleaned_data
    if change == "metadata":
        finding = Finding.objects.filter(pk=data.get("finding") or 0, item=item).first()
        return page_proposals.metadata_specs(item=item, url=data["url"], tags=data["tags"], finding=finding), ""
    if change == "rename":
        return [page_proposals.rename_spec(item=item, title=data["title"])], ""
    if change == "move":
        assert isinstance(form, MoveForm)
        chosen = form.chosen()
        spec = page_proposals.move_spec(item=item, destination=chosen.vault)
        return [spec], chosen.reason if chosen.is_manual else ""
    return [page_proposals.archive_spec(item=item)], ""


@requires(Capability.PROPOSE_CLEANUP)
def item_change(request: HtmxHttpRequest, pk: int, change: str) -> HttpResponse:
    if change not in ITEM_CHANGES:
        raise Http404("No such change.")
    item = get_object_or_404(Item.objects.select_related("vault__account"), pk=pk)
    if not scope.is_in_scope(request.user, item.vault):
        return _outside_scope(request, item.vault, item=item.pk)
    offers = page_proposals.item_offers(item, request.user)
    if not offers.offered:
        raise Http404(offers.why_not)
    form = _item_form(change, item, request.POST if request.method == "POST" else None, request)
    if request.method == "POST" and form.is_valid():
        try:
            specs, manual = _item_specs(change, item, form)
            landed = page_proposals.propose(user=signed_in_user(request), specs=specs, manual_reason=manual)
        except scope.OutsideVaultScope:  # a move into a vault the lead does not own
            return _outside_scope(request, form.cleaned_data["destination"], item=item.pk)
        except plans.PlanError as error:
            form.add_error(None, str(error))
        else:
            return _landed(request, landed, item=item.pk)
    context = {
        "nav": "vaults",
        "item": item,
        "vault": item.vault,
        "change": change,
        "change_label": ITEM_CHANGES[change],
        "form": form,
        "offers": offers,
        "description_note": DESCRIPTION_NOTE if change == "metadata" else "",
    }
    return render(request, "cleanup/propose_item.html", context, status=400 if form.errors else 200)


def _grantee(vault: Vault, source: QueryDict) -> OpGroup | OpUser | None:
    """The group or person named by `?group=`/`?user=` (None when neither is given)."""
    group, user = source.get("group", ""), source.get("user", "")
    if not group and not user:
        return None
    grants = VaultGrant.objects.filter(vault=vault)
    if group.isdigit() and grants.filter(group_id=int(group), group__removed_at__isnull=True).exists():
        return OpGroup.objects.get(pk=int(group))
    if user.isdigit() and grants.filter(user_id=int(user)).exists():
        person = OpUser.objects.get(pk=int(user))
        if is_sync_identity(person, vault.account):
            raise Http404("OpenClaw's own service account is never offered for revocation.")
        return person
    raise Http404("That group or person holds no grant on this vault.")


@requires(Capability.PROPOSE_CLEANUP)
def vault_revoke(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Revoke a group's (`?group=`) or a person's direct (`?user=`) access to the vault."""
    vault = get_object_or_404(Vault.objects.select_related("account"), pk=pk, removed_at__isnull=True)
    if not scope.is_in_scope(request.user, vault):
        return _outside_scope(request, vault, vault=vault.pk)
    source = request.POST if request.method == "POST" else request.GET
    grantee = _grantee(vault, source)
    if grantee is None:  # no one named yet: pick a group or a person holding a grant here
        context = {"nav": "vaults", "vault": vault, **page_proposals.vault_page_context(vault, request.user)}
        context["direct_grants"] = page_proposals.direct_user_grants(vault)
        return render(request, "cleanup/propose_revoke_pick.html", context)
    form = RevokeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        which = form.cleaned_data["which"]
        try:
            if isinstance(grantee, OpGroup):
                spec = page_proposals.revoke_group_spec(vault=vault, group=grantee, which=which)
            else:
                spec = page_proposals.revoke_user_spec(vault=vault, user=grantee, which=which)
            landed = page_proposals.propose(user=signed_in_user(request), specs=[spec])
        except scope.OutsideVaultScope:
            return _outside_scope(request, vault, vault=vault.pk)
        except plans.PlanError as error:
            form.add_error(None, str(error))
        else:
            return _landed(request, landed, vault=vault.pk)
    is_group = isinstance(grantee, OpGroup)
    grant = VaultGrant.objects.filter(vault=vault, **({"group": grantee} if is_group else {"user": grantee})).first()
    context = {
        "nav": "vaults",
        "vault": vault,
        "grantee": grantee,
        "is_group": is_group,
        "grant": grant,
        "form": form,
    }
    return render(request, "cleanup/propose_revoke.html", context, status=400 if form.errors else 200)


class BulkForm(forms.Form):
    ids = forms.ModelMultipleChoiceField(queryset=Finding.objects.all(), required=False)
    all_matching = forms.BooleanField(required=False)
    query = forms.CharField(required=False, max_length=2000)


@requires(Capability.PROPOSE_CLEANUP)
@require_POST
def findings_bulk(request: HtmxHttpRequest) -> HttpResponse:
    """The checked findings, or every finding matching the list's filter (`query`), as one new
    draft plan; how many produced no action, and why, is shown on the plan."""
    form = BulkForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Invalid selection.")
    query = form.cleaned_data["query"]
    back = reverse("findings:list") + (f"?{query}" if query else "")
    # The list's filter bounds the plan for checked findings too (its vault): one that no longer
    # validates (a vault removed since the page loaded) is refused, not dropped.
    filters = FindingFilterForm(QueryDict(query))
    if not filters.is_valid():
        return HttpResponseBadRequest("Invalid filter.")
    if form.cleaned_data["all_matching"]:
        matching = filtered_findings(**filters.cleaned_data)
        findings = list(matching[: page_proposals.MAX_BULK_FINDINGS + 1])
    else:
        findings = list(form.cleaned_data["ids"].select_related("account", "vault", "item__vault", "op_user"))
    if not findings:
        messages.error(request, "Select at least one finding, or “all matching this filter”.")
        return redirect(back)
    capped = len(findings) > page_proposals.MAX_BULK_FINDINGS
    findings = findings[: page_proposals.MAX_BULK_FINDINGS]
    try:
        outcome = page_proposals.bulk_proposal(findings=findings, user=signed_in_user(request), capped=capped,
                                               vault=filters.cleaned_data["vault"])  # fmt: skip
    except plans.PlanError as error:
        messages.error(request, str(error))
        return redirect(back)
    audit.record(
        "cleanup.plan.proposed_in_bulk",
        request=request,
        target=outcome.plan,
        details={"findings": [f.pk for f in findings], "all_matching": form.cleaned_data["all_matching"],
                 "query": query, "vault": getattr(filters.cleaned_data["vault"], "pk", None),
                 "addressed": outcome.addressed, "no_action": dict(outcome.no_action)},
    )  # fmt: skip
    summary = [f"{n} finding{'s' if n != 1 else ''}: {reason}" for reason, n in outcome.no_action.most_common(10)]
    if outcome.capped:
        messages.warning(request, f"Only the first {page_proposals.MAX_BULK_FINDINGS} matching findings were taken.")
    if outcome.plan is None:
        messages.error(request, f"None of the {outcome.selected} findings produced an action. " + "; ".join(summary))
        return redirect(back)
    messages.success(
        request,
        f"New draft plan with the actions for {outcome.addressed} of {outcome.selected} finding"
        f"{'s' if outcome.selected != 1 else ''}: review it, then submit it for approval.",
    )
    if summary:
        messages.warning(request, f"{outcome.not_addressed} produced no action — " + "; ".join(summary))
    return redirect("cleanup:plan", outcome.plan.pk)
