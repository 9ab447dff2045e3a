"""Findings (the same filters as the findings page) and health scores over time."""

from __future__ import annotations

import json
from typing import Any, Literal

from django.db.models import Q
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field as F
from ninja import Query, Router
from ninja.errors import HttpError

from openclaw_web.api.auth import ApiAuth
from openclaw_web.api.cached import cached_json
from openclaw_web.api.inventory import PageParams
from openclaw_web.api.pagination import paginate
from openclaw_web.api.schemas import WITHOUT_NUL, FindingOut, FindingPage, HealthOut, HealthPage, Id
from openclaw_web.roles import Capability
from vaults.findings.forms import FindingFilterForm
from vaults.findings.models import Finding, HealthSnapshot
from vaults.findings.search import filtered_findings

router = Router(auth=ApiAuth(Capability.VIEW_INVENTORY), tags=["findings"])


class FindingFilters(PageParams):
    kind: Finding.Kind | None = None
    severity: Finding.Severity | None = None
    vault: Id | None = F(None, description="the findings the vault's score counts: about its items, groups and people naming it")
    status: Literal["open", "accepted", "resolved", "all"] = F("open", description='"all" for any status')
    q: str = F("", pattern=WITHOUT_NUL, max_length=200, description='search, as on the page: "db password prod"')


class HealthFilters(PageParams):
    account: Id | None = None
    vault: Id | None = F(None, description="a vault's scores; without it, the organisation's")


def _findings() -> Any:
    return Finding.objects.select_related("account", "accepted_by").prefetch_related("related_items")


@router.get("/findings", response=FindingPage)
def list_findings(request: HttpRequest, params: Query[FindingFilters]) -> dict[str, Any]:
    """Open findings unless `status` says otherwise; highest severity first, then oldest id.
    The filters go through the findings page's own form, so both accept exactly the same input."""
    data = {"kind": params.kind or "", "severity": params.severity or "", "vault": params.vault or "",
            "status": params.status, "q": params.q}  # fmt: skip
    form = FindingFilterForm(data)
    if not form.is_valid():
        raise HttpError(
            400, "Invalid filter: " + "; ".join(f"{k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items())
        )
    findings = filtered_findings(**form.cleaned_data).select_related("account", "accepted_by").prefetch_related("related_items")
    return cached_json(  # type: ignore[return-value]  # an HttpResponse passes through ninja as is
        request,
        "api.findings:" + json.dumps(params.model_dump(mode="json"), sort_keys=True),
        FindingPage,
        lambda: paginate(findings, order=("-severity_rank", "id"), cursor=params.cursor, limit=params.limit),
    )


@router.get("/findings/{finding_id}", response=FindingOut)
def get_finding(request: HttpRequest, finding_id: Id) -> Finding:
    return get_object_or_404(_findings(), pk=finding_id)


@router.get("/health", response=list[HealthOut])
def current_health(request: HttpRequest, account: Id | None = None) -> list[HealthSnapshot]:
    """The latest organisation score of each account, then the latest score of each vault."""
    snapshots = HealthSnapshot.objects.order_by("account_id", "vault_id", "-taken_at", "-id")
    if account is not None:
        snapshots = snapshots.filter(account_id=account)
    # PostgreSQL has DISTINCT ON; the embedded SQLite demo gets the same answer in Python.
    latest: dict[tuple[int, int | None], HealthSnapshot] = {}
    for snapshot in _latest_per_scope(snapshots):
        latest.setdefault((snapshot.account_id, snapshot.vault_id), snapshot)
    return sorted(latest.values(), key=lambda s: (s.account_id, s.vault_id is not None, s.vault_id or 0))


def _latest_per_scope(snapshots: Any) -> Any:
    from django.db import connection

    if connection.vendor == "postgresql":
        return snapshots.distinct("account_id", "vault_id")
    return snapshots.iterator(chunk_size=2000)


@router.get("/health/history", response=HealthPage)
def health_history(request: HttpRequest, params: Query[HealthFilters]) -> dict[str, Any]:
    """Scores over time, oldest first: the organisation's unless `vault` is given."""
    snapshots = HealthSnapshot.objects.filter(Q(vault_id=params.vault) if params.vault else Q(vault__isnull=True))
    if params.account is not None:
        snapshots = snapshots.filter(account_id=params.account)
    return paginate(snapshots, order=("taken_at", "id"), cursor=params.cursor, limit=params.limit)
