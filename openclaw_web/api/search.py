"""`/api/v1/search?q=`: the search page's grouped result, as JSON (vaults/search.py)."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field as F
from ninja import Query, Router, Schema

from openclaw_web.api.auth import ApiAuth
from openclaw_web.api.schemas import WITHOUT_NUL
from openclaw_web.roles import Capability
from vaults import search as search_domain

router = Router(auth=ApiAuth(Capability.VIEW_INVENTORY), tags=["search"])

Kind = Literal["items", "vaults", "people", "groups", "findings"]


class SearchParams(Schema):
    q: str = F("", pattern=WITHOUT_NUL, max_length=search_domain.MAX_QUERY_CHARS, description='words in any order, typos forgiven: "strpe prod"; empty: no hits')
    type: Kind | None = F(None, description="only this kind of hit")
    limit: int = F(search_domain.PER_TYPE, ge=1, le=100, description="hits per kind")


class HitOut(Schema):
    id: int
    label: str
    secondary: str
    url: str = F(..., description='the hit\'s page; "" for groups, which have none')


class HitGroupOut(Schema):
    type: str
    title: str
    total: int = F(..., description=f"matches, counted up to {search_domain.CANDIDATES}")
    capped: bool = F(..., description=f"true when more than {search_domain.CANDIDATES} matched")
    hits: list[HitOut]


class SearchOut(Schema):
    query: str
    words: list[str]
    too_short: bool
    groups: list[HitGroupOut]


@router.get("/search", response=SearchOut)
def search(request: HttpRequest, params: Query[SearchParams]) -> dict[str, Any]:
    """Items, vaults, people, groups and open findings matching every word of `q`, best first."""
    kinds = [params.type] if params.type else search_domain.KIND_NAMES
    results = search_domain.search(request.api_user, params.q, per_type=params.limit, kinds=kinds)  # type: ignore[attr-defined]  # set by ApiAuth
    return {
        "query": results.query,
        "words": list(results.words),
        "too_short": results.too_short,
        "groups": [
            {"type": g.kind, "title": g.title, "total": min(g.total, search_domain.CANDIDATES), "capped": g.capped,
             "hits": [{"id": h.pk, "label": h.label, "secondary": h.secondary, "url": h.url} for h in g.hits]}
            for g in results.groups
        ],
    }  # fmt: skip
