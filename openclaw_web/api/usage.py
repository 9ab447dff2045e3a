"""Item usage (who used what, when, from where and how): the usage page's filters, as JSON."""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field as F
from ninja import Query, Router, Schema
from ninja.errors import HttpError

from openclaw_web.api.auth import ApiAuth
from openclaw_web.api.inventory import PageParams
from openclaw_web.api.pagination import paginate
from openclaw_web.api.schemas import WITHOUT_NUL, Id
from openclaw_web.roles import Capability
from vaults import usage_audit
from vaults.usage_form import UsageFilterForm

router = Router(auth=ApiAuth(Capability.VIEW_INVENTORY), tags=["usage"])
COUNT_ROWS = 100


class UsageFilters(PageParams):
    account: Id | None = None
    vault: Id | None = None
    item: Id | None = None
    classification: str = F("", pattern=WITHOUT_NUL, max_length=20)
    title: str = F("", pattern=WITHOUT_NUL, max_length=200, description="part of the item title")
    tag: str = F("", pattern=WITHOUT_NUL, max_length=200, description="one of the item's tags, exactly")
    person: Id | None = F(None, description="a 1Password user's id in this API (as on /people/<id>/)")
    group: Id | None = F(None, description="current members of the group")
    action: str = F("", pattern=WITHOUT_NUL, max_length=60)
    country: str = F("", pattern=WITHOUT_NUL, max_length=100)
    ip: str = F("", pattern=WITHOUT_NUL, max_length=64, description='an address, or a prefix ending in "." or ":"')
    start: datetime.date | None = F(None, description="first day (UTC), inclusive; with neither start nor end: the last 30 days")
    end: datetime.date | None = F(None, description="last day (UTC), inclusive")
    counts: bool = F(False, description="add uses per person and per item (top 100) and the total")


class UsageEventOut(Schema):
    id: int
    timestamp: datetime.datetime
    account_id: int
    user_op_id: str
    user_name: str
    user_email: str
    item_op_id: str
    item_title: str | None
    vault_op_id: str
    action: str
    client_app: str
    client_ip: str
    country: str


class CountOut(Schema):
    op_id: str
    label: str
    uses: int


class UsageCountsOut(Schema):
    total: int
    per_person: list[CountOut]
    per_item: list[CountOut]


class UsagePage(Schema):
    results: list[UsageEventOut]
    next_cursor: str | None
    coverage: list[str]
    counts: UsageCountsOut | None = None


def _form(params: UsageFilters) -> UsageFilterForm:
    fields = ("account", "vault", "item", "classification", "title", "tag", "person", "group", "action", "country", "ip", "start", "end")
    data = {name: "" if getattr(params, name) is None else str(getattr(params, name)) for name in fields}
    form = UsageFilterForm(data)
    if not form.is_valid():
        raise HttpError(
            400, "Invalid filter: " + "; ".join(f"{k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items())
        )
    return form


@router.get("/usage", response=UsagePage)
def list_usage(request: HttpRequest, params: Query[UsageFilters]) -> dict[str, Any]:
    """Usage events newest first. The filters go through the usage page's own form, so the same
    query string gives the same events here and on /usage/."""
    f = _form(params).usage_filter()
    page = paginate(usage_audit.events(f), order=("-timestamp", "-id"), cursor=params.cursor, limit=params.limit)
    rows = usage_audit.with_items(page["results"])
    results = [
        {**{k: getattr(r.event, k) for k in UsageEventOut.model_fields if hasattr(r.event, k)},
         "item_title": r.item.title if r.item else None}
        for r in rows
    ]  # fmt: skip
    counts = None
    if params.counts:
        answer = usage_audit.summary(f, limit=COUNT_ROWS)
        counts = {
            "total": answer.timeline.total,
            "per_person": [{"op_id": r.op_id, "label": r.label, "uses": r.count} for r in answer.people],
            "per_item": [{"op_id": r.op_id, "label": r.label, "uses": r.count} for r in answer.items],
        }
    return {"results": results, "next_cursor": page["next_cursor"], "coverage": usage_audit.coverage(f).statements, "counts": counts}
