"""What a ticket can be about: the one place subject kinds are registered.

Each kind says how to load its object, which placeholder values (compliance/tickets/placeholders.py)
it gives, and where its page is. Values are metadata only: titles, names, kinds, dates, counts —
never a finding's key or details (fingerprint references live there), never a secret value.
A new subject kind is one `SubjectKind` in SUBJECTS plus its create-ticket route.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Model
from django.urls import reverse
from django.utils import timezone

from vaults.cleanup.models import CleanupPlan
from vaults.findings.models import Finding
from vaults.offboarding.models import OffboardingCase

PLAN_ACTION_LINES = 20  # a plan of hundreds of actions is summarised, not pasted whole


@dataclass(frozen=True)
class SubjectKind:
    name: str
    label: str
    model: type[Model]
    facts: Callable[[Any], dict[str, str]]
    page_path: Callable[[Any], str]

    def load(self, pk: int) -> Any:
        """The object, or Model.DoesNotExist."""
        return self.model._default_manager.get(pk=pk)


def _when(moment: datetime.datetime | None) -> str:
    return timezone.localtime(moment, datetime.UTC).strftime("%Y-%m-%d %H:%M") if moment else ""


def finding_facts(finding: Finding) -> dict[str, str]:
    return {
        "subject": "Finding",
        "title": finding.title,
        "kind": finding.get_kind_display(),
        "severity": finding.get_severity_display(),
        "status": finding.get_status_display(),
        "account": finding.account.name,
        "vault": finding.vault.name if finding.vault else ", ".join(str(v) for v in finding.details.get("vaults", [])[:10]),
        "item_title": finding.item.title if finding.item else "",
        "item_id": finding.item.op_id if finding.item else "",
        "person": finding.op_user.email if finding.op_user else "",
        "explanation": finding.explanation,
        "recommended_action": finding.recommended_action,
        "first_seen": _when(finding.first_seen),
    }


def plan_facts(plan: CleanupPlan) -> dict[str, str]:
    actions = list(plan.actions.select_related("item", "vault", "op_user", "op_group").order_by("position", "pk"))
    counts = Counter(a.get_kind_display() for a in actions)
    lines = [f"{len(actions)} action{'s' if len(actions) != 1 else ''}: "
             + ", ".join(f"{kind} ({n})" for kind, n in counts.most_common())]  # fmt: skip
    for action in actions[:PLAN_ACTION_LINES]:
        what = action.item.title if action.item else action.op_user.email if action.op_user else ""
        where = f"vault {action.vault.name}" if action.vault else action.vault_name
        lines.append(f"- {action.get_kind_display()}: {what} ({where}) — {action.status_label}")
    if len(actions) > PLAN_ACTION_LINES:
        lines.append(f"- … and {len(actions) - PLAN_ACTION_LINES} more on the plan's page")
    vaults = sorted({a.vault.name for a in actions if a.vault})
    return {
        "subject": "Cleanup plan",
        "title": plan.title,
        "kind": "Cleanup plan",
        "severity": "",
        "status": plan.get_status_display(),
        "account": plan.account.name,
        "vault": ", ".join(vaults[:10]) + (f" and {len(vaults) - 10} more" if len(vaults) > 10 else ""),
        "item_title": "",
        "item_id": "",
        "person": "",
        "explanation": "\n".join(lines),
        "recommended_action": "Review the plan on OpenClaw; an approver (never the proposer) approves each action.",
        "first_seen": _when(plan.created_at),
    }


def offboarding_facts(case: OffboardingCase) -> dict[str, str]:
    explanation = (f"{case.person_label} leaves on {case.leave_date:%Y-%m-%d} ({case.get_reason_display()}). "
                   f"Rotation and removal are due by {case.due_date:%Y-%m-%d}: {case.sla_label}.")  # fmt: skip
    if case.plan_id:
        explanation += f"\nRotation plan: {case.plan.title if case.plan else ''}"
    return {
        "subject": "Offboarding case",
        "title": str(case),
        "kind": "Offboarding case",
        "severity": "",
        "status": case.get_status_display(),
        "account": case.account.name,
        "vault": "",
        "item_title": "",
        "item_id": "",
        "person": case.email,
        "explanation": explanation,
        "recommended_action": "Rotate the secrets they used and remove their vault access (see the rotation plan).",
        "first_seen": _when(case.opened_at),
    }


SUBJECTS: dict[str, SubjectKind] = {
    "finding": SubjectKind("finding", "Finding", Finding, finding_facts, lambda f: reverse("findings:detail", args=[f.pk])),
    "plan": SubjectKind("plan", "Cleanup plan", CleanupPlan, plan_facts, lambda p: reverse("cleanup:plan", args=[p.pk])),
    "offboarding": SubjectKind(
        "offboarding",
        "Offboarding case",
        OffboardingCase,
        offboarding_facts,
        lambda c: reverse("offboarding:detail", args=[c.pk]),
    ),
}


def facts_for(kind: SubjectKind, obj: Any, *, base_url: str) -> dict[str, str]:
    values = kind.facts(obj)
    path = kind.page_path(obj)
    values["link"] = base_url.rstrip("/") + path if path else ""
    return values
