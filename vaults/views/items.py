"""Item detail: metadata only. No value, no notes text, no password history ever reaches here."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from openclaw_web.http import HtmxHttpRequest
from openclaw_web.roles import Capability, has_capability, requires
from vaults import inventory
from vaults.cleanup import page_proposals
from vaults.models import Item, ItemUsage, OpUser

RECENT_USES = 15


def _get_item_for_user(request: HtmxHttpRequest, pk: int) -> Item:
    """Every role with VIEW_INVENTORY sees every item's metadata; this is the one place to narrow it."""
    return get_object_or_404(Item.objects.select_related("vault", "vault__account", "vault__owner"), pk=pk)


def _usage(item: Item) -> dict[str, Any]:
    events = ItemUsage.objects.filter(account_id=item.vault.account_id, item_op_id=item.op_id)
    by_user = list(
        events.values("user_op_id", "user_name", "user_email")
        .annotate(uses=Count("id"), last=Max("timestamp"))
        .order_by("-last")[:RECENT_USES]
    )
    people = OpUser.objects.filter(account_id=item.vault.account_id, op_id__in=[u["user_op_id"] for u in by_user])
    pk_by_op_id = {p.op_id: p.pk for p in people}
    for row in by_user:
        row["person_pk"] = pk_by_op_id.get(row["user_op_id"])
    return {"total": events.count(), "by_user": by_user}


@requires(Capability.VIEW_INVENTORY)
def item_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    item = _get_item_for_user(request, pk)
    context = {
        "nav": "vaults",
        "item": item,
        "vault": item.vault,
        "secret_fields": item.secret_fields.order_by("label", "field_id"),
        "usage": _usage(item),
        "last_editor": OpUser.objects.filter(account_id=item.vault.account_id, op_id=item.last_edited_by).first()
        if item.last_edited_by else None,
        "access": inventory.item_access(item),
        "findings": inventory.open_findings(item=item),
        # Set URL/tags, rename, move, archive: offered to a proposer on an active item of their vault.
        "offers": page_proposals.item_offers(item, request.user)
        if has_capability(request.user, Capability.PROPOSE_CLEANUP)
        else None,
    }
    return render(request, "vaults/item_detail.html", context)
