"""People (1Password users): a searchable list, and one person's groups, vaults and usage."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from openclaw_web.http import HtmxHttpRequest
from openclaw_web.keyset import keyset_page, page_links
from openclaw_web.roles import Capability, requires
from vaults import inventory
from vaults.forms import PeopleFilterForm
from vaults.models import Item, ItemUsage, OpUser
from vaults.offboarding.forms import MarkLeavingForm
from vaults.offboarding.summary import latest_case
from vaults.views.fragments import render_page_or_fragment

RECENT_USES = 15


def _get_person_for_user(request: HtmxHttpRequest, pk: int) -> OpUser:
    return get_object_or_404(OpUser.objects.select_related("account"), pk=pk)


PEOPLE_ORDER = ("name", "email", "pk")


def _people(*, q: str, account: Any, state: str) -> QuerySet[OpUser]:
    last_use = ItemUsage.objects.filter(account_id=OuterRef("account_id"), user_op_id=OuterRef("op_id"))
    people = OpUser.objects.select_related("account").annotate(
        group_count=Count("memberships", distinct=True),
        direct_grants=Count("grants", distinct=True),
        last_used=Subquery(last_use.order_by("-timestamp").values("timestamp")[:1]),
    )
    if q:
        people = people.filter(Q(name__icontains=q) | Q(email__icontains=q) | Q(op_id=q))
    if account:
        people = people.filter(account=account)
    if state:
        people = people.filter(state__iexact=state)
    return people.order_by(*PEOPLE_ORDER)


@requires(Capability.VIEW_INVENTORY)
def people_list(request: HtmxHttpRequest) -> HttpResponse:
    form = PeopleFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("Invalid filter.")
    filters = {k: form.cleaned_data[k] for k in ("q", "account", "state")}
    page = keyset_page(_people(**filters), order=PEOPLE_ORDER, **form.cursor())
    context = {"nav": "vaults", "form": form, **page_links(request, page)}
    return render_page_or_fragment(request, "vaults/people_list.html", "vaults/_people_table.html", context)


def _usage(person: OpUser) -> dict[str, Any]:
    events = ItemUsage.objects.filter(account_id=person.account_id, user_op_id=person.op_id)
    summary = events.aggregate(total=Count("id"), last=Max("timestamp"))
    recent = list(events.order_by("-timestamp")[:RECENT_USES])
    items = Item.objects.filter(vault__account_id=person.account_id, op_id__in={e.item_op_id for e in recent})
    item_by_op_id = {item.op_id: item for item in items.select_related("vault")}
    rows = [{"event": e, "item": item_by_op_id.get(e.item_op_id)} for e in recent]
    return {"total": summary["total"], "last": summary["last"], "recent": rows}


@requires(Capability.VIEW_INVENTORY)
def person_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    person = _get_person_for_user(request, pk)
    context = {
        "nav": "vaults",
        "person": person,
        "memberships": person.memberships.select_related("group").order_by("group__name"),
        "access": inventory.person_access(person),
        "usage": _usage(person),
        "findings": inventory.open_findings(user=person),
        "offboarding_case": latest_case(person),
        "leaving_form": MarkLeavingForm(initial={"leave_date": timezone.now().date()}),
    }
    return render(request, "vaults/person_detail.html", context)
