"""`{% plan_execution plan %}`: the execution-progress box of the plan page, so the page and its
polling fragment (views.plan_progress) render the same box without the page view computing it."""

from __future__ import annotations

from typing import Any

from django import template

from vaults.cleanup.models import CleanupPlan
from vaults.cleanup.progress import execution_progress

register = template.Library()


@register.inclusion_tag("cleanup/_plan_execution.html")
def plan_execution(plan: CleanupPlan) -> dict[str, Any]:
    return {"plan": plan, "progress": execution_progress(plan), "refresh_plan": False}
