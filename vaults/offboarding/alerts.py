"""Offboarding as an alert source: one condition per open case past its SLA."""

from __future__ import annotations

import datetime

from django.urls import reverse
from django.utils import timezone

from compliance.alerts.conditions import OFFBOARDING_OVERDUE, Condition
from vaults.models import Account
from vaults.offboarding.models import OffboardingCase


def _days(delta: datetime.timedelta) -> str:
    return f"{delta.days} day{'s' if delta.days != 1 else ''}"


def alert_conditions(account: Account) -> list[Condition]:
    today = timezone.now().date()
    overdue = OffboardingCase.objects.filter(account=account, status=OffboardingCase.Status.OPEN, due_date__lt=today)
    return [
        Condition(
            kind=OFFBOARDING_OVERDUE,
            key=f"offboarding:{case.pk}",
            account_id=account.pk,
            title=f"Offboarding of {case.name or case.email} is {_days(today - case.due_date)} past its SLA",
            url=reverse("offboarding:detail", args=[case.pk]),
            severity="high",
            details={
                "case": case.pk,
                "email": case.email,
                "leave_date": case.leave_date.isoformat(),
                "due_date": case.due_date.isoformat(),
                "days_overdue": (today - case.due_date).days,
                "actions_created": case.plan_id is not None,
            },
        )
        for case in overdue.order_by("due_date", "pk")
    ]
