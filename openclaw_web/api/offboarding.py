"""Offboarding cases and each case's rotation and removal plan (the same document as the case
page and `manage.py offboarding_plan`)."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router

from openclaw_web.api.auth import ApiAuth
from openclaw_web.api.inventory import PageParams
from openclaw_web.api.pagination import paginate
from openclaw_web.api.schemas import Id
from openclaw_web.roles import Capability
from vaults.offboarding.models import OffboardingCase
from vaults.offboarding.summary import case_as_dict, plan_document

router = Router(auth=ApiAuth(Capability.VIEW_CLEANUP), tags=["offboarding"])


class CaseFilters(PageParams):
    account: Id | None = None
    status: Literal["open", "completed", "cancelled"] | None = None


def _cases() -> Any:
    return OffboardingCase.objects.select_related("account", "op_user", "plan").prefetch_related("further_plans")


@router.get("/offboarding", response=dict[str, Any])
def list_cases(request: HttpRequest, params: Query[CaseFilters]) -> dict[str, Any]:
    cases = _cases()
    if params.account is not None:
        cases = cases.filter(account_id=params.account)
    if params.status is not None:
        cases = cases.filter(status=params.status)
    page = paginate(cases, order=["due_date", "id"], cursor=params.cursor, limit=params.limit)
    return {"results": [case_as_dict(c) for c in page["results"]], "next_cursor": page["next_cursor"]}


@router.get("/offboarding/{case_id}", response=dict[str, Any])
def get_case(request: HttpRequest, case_id: Id) -> dict[str, Any]:
    return case_as_dict(get_object_or_404(_cases(), pk=case_id))


@router.get("/offboarding/{case_id}/plan", response=dict[str, Any])
def get_case_plan(request: HttpRequest, case_id: Id) -> dict[str, Any]:
    case = get_object_or_404(_cases(), pk=case_id)
    return plan_document(case.op_user) | {"case": case_as_dict(case)}
