"""Vaults: the filtered list, one vault's detail, and the admin's classification/owner form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST

from compliance import audit
from openclaw_web.fragment_cache import cached_fragment
from openclaw_web.http import HtmxHttpRequest
from openclaw_web.keyset import keyset_page, page_links
from openclaw_web.roles import Capability, has_capability, requires
from vaults import history, inventory
from vaults.breakglass.track import track as breakglass_track
from vaults.cleanup import page_proposals
from vaults.forms import PAGE_SIZE, ItemFilterForm, VaultFilterForm, VaultSettingsForm
from vaults.models import Vault
from vaults.views.fragments import render_page_or_fragment, wants_fragment


def _get_vault_for_user(request: HtmxHttpRequest, pk: int) -> Vault:
    return get_object_or_404(Vault.objects.select_related("account", "owner"), pk=pk)


@requires(Capability.VIEW_INVENTORY)
def vault_list(request: HtmxHttpRequest) -> HttpResponse:
    form = VaultFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("Invalid filter.")
    filters = {k: form.cleaned_data[k] for k in ("q", "account", "classification")}
    vaults = inventory.vault_rows(**filters).order_by(*form.ordering())
    page = Paginator(vaults, PAGE_SIZE).get_page(form.page_number())
    context = {"nav": "vaults", "form": form, "page": page, "rows": inventory.with_rotation_days(page.object_list)}
    return render_page_or_fragment(request, "vaults/vault_list.html", "vaults/_vault_table.html", context)


# A vault may hold tens of thousands of items: keyset pages by title (openclaw_web/keyset.py).
ITEM_ORDER = ("title", "pk")


@requires(Capability.VIEW_INVENTORY)
def vault_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    vault = _get_vault_for_user(request, pk)
    form = ItemFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("Invalid filter.")

    def item_context() -> dict[str, Any]:
        page = keyset_page(inventory.vault_items(vault, q=form.cleaned_data["q"]), order=ITEM_ORDER, **form.cursor())
        return {"vault": vault, "form": form, **page_links(request, page)}

    if wants_fragment(request):
        html = cached_fragment(
            request, "vault-items", lambda: render_to_string("vaults/_item_table.html", item_context(), request=request),
            account=vault.account_id,
        )
        response = HttpResponse(html)
    else:
        response = _vault_page(request, vault, item_context)
    patch_vary_headers(response, ("HX-Request",))  # a browser must not serve the table for the page
    return response


# People listed in a vault's access table unless "Show all" is asked for: a vault shared with a
# large group listed every member, each row a few template filters (permission pills, state).
ACCESS_ROWS = 50


def _access_page(contents: dict[str, Any], request: HtmxHttpRequest) -> dict[str, Any]:
    access = contents["access"]
    shown = access if request.GET.get("access") == "all" else access[:ACCESS_ROWS]
    return {**contents, "access": shown, "access_total": len(access)}


def _vault_page(request: HtmxHttpRequest, vault: Vault, item_context: Callable[[], dict[str, Any]]) -> HttpResponse:
    summary = cached_fragment(
        request, "vault-summary",
        lambda: render_to_string("vaults/_vault_summary.html", {"vault": vault, **inventory.vault_summary(vault)}, request=request),
        account=vault.account_id,
    )  # fmt: skip
    revoke_links = page_proposals.offers_revocations(vault, request.user) and has_capability(
        request.user, Capability.PROPOSE_CLEANUP
    )

    def contents_context() -> dict[str, Any]:
        # Read when the fragment renders, not on every request: the groups and their member counts.
        proposals = {**page_proposals.vault_page_context(vault, request.user), "revoke_links": revoke_links}
        return {**item_context(), **_access_page(inventory.vault_contents(vault), request), **proposals}

    # Revoke links depend on the viewer's vault scope, not only on their roles: part of the key.
    contents = cached_fragment(
        request, f"vault-contents:{'propose' if revoke_links else 'read'}",
        lambda: render_to_string("vaults/_vault_contents.html", contents_context(), request=request),
        account=vault.account_id,
    )  # fmt: skip
    context = {"nav": "vaults", "vault": vault, "summary": summary, "contents": contents}
    if has_capability(request.user, Capability.EDIT_POLICY):
        context["settings_form"] = VaultSettingsForm(instance=vault)
    return render(request, "vaults/vault_detail.html", context)


@requires(Capability.EDIT_POLICY)
@require_POST
def vault_settings(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    vault = _get_vault_for_user(request, pk)
    before = {"classification": vault.classification, "owner": vault.owner.get_username() if vault.owner else None}
    form = VaultSettingsForm(request.POST, instance=vault)
    if not form.is_valid():
        messages.error(request, "Not saved: " + "; ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("vaults:detail", pk=vault.pk)
    with transaction.atomic():
        vault = form.save(commit=False)
        vault.classification_set_by_person = True
        vault.save(update_fields=["classification", "owner", "classification_set_by_person"])
        if vault.classification != before["classification"]:
            history.record_classification(vault.account, at=timezone.now())
            if vault.classification == Vault.Classification.EMERGENCY:  # its stored uses become break-glass events
                breakglass_track(account=vault.account)
        after = {"classification": vault.classification, "owner": vault.owner.get_username() if vault.owner else None}
        audit.record("vault.settings_changed", request=request, target=vault, details={"before": before, "after": after})
    messages.success(request, "Vault classification and owner saved.")
    return redirect("vaults:detail", pk=vault.pk)
