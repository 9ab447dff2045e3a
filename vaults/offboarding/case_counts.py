"""The counts at the top of an offboarding case page. A leaver's plan can hold hundreds of secrets
shown a page at a time, so the page says what the whole plan holds before its first page: the
secrets by why they are on it, and the case's actions by status."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count

from vaults.cleanup.models import ProposedAction
from vaults.offboarding.models import OffboardingCase
from vaults.offboarding.plan import OffboardingPlan


@dataclass(frozen=True)
class CaseCounts:
    secrets: int
    production: int
    used: int  # used in the window; the others are on the plan because the person could copy them
    actions: list[tuple[str, int]]  # (status label, count), in the order of ProposedAction.Status

    @property
    def reachable_only(self) -> int:
        return self.secrets - self.used

    @property
    def action_total(self) -> int:
        return sum(n for _, n in self.actions)


def case_counts(case: OffboardingCase, plan: OffboardingPlan) -> CaseCounts:
    by_status: dict[str, int] = {}
    plans = case.plans() if case.pk else []
    if plans:
        rows = ProposedAction.objects.filter(plan__in=plans).values_list("status").annotate(n=Count("pk")).order_by()
        by_status = {status: n for status, n in rows}
    return CaseCounts(
        secrets=len(plan.lines),
        production=sum(1 for line in plan.lines if line.production),
        used=sum(1 for line in plan.lines if line.uses),
        actions=[(label, by_status[value]) for value, label in ProposedAction.Status.choices if by_status.get(value)],
    )
