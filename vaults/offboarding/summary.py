"""A case (or a person without one) and their plan as one JSON-able shape: what the case page
shows, what `/api/v1/offboarding/...` returns and what `manage.py offboarding_plan` prints."""

from __future__ import annotations

from typing import Any

from vaults.models import Account, OpUser
from vaults.offboarding.cases import case_plan, default_window
from vaults.offboarding.completion import blockers
from vaults.offboarding.models import OffboardingCase
from vaults.offboarding.plan import OffboardingPlan, build_plan


class PersonNotFound(Exception):
    """No (or more than one) person matches; the message says which."""


def case_as_dict(case: OffboardingCase) -> dict[str, Any]:
    return {
        "id": case.pk,
        "account": case.account.name,
        "email": case.email,
        "name": case.name,
        "reason": case.reason,
        "status": case.status,
        "leave_date": case.leave_date.isoformat(),
        "due_date": case.due_date.isoformat(),
        "overdue": case.overdue,
        "sla": case.sla_label,
        "lookback_days": case.lookback_days,
        "opened_at": case.opened_at.isoformat(),
        "completed_at": case.completed_at.isoformat() if case.completed_at else None,
        "cleanup_plan": case.plan_id,
        # Every plan of the case: the first, then the further plans made for what a lead could not
        # cover (vaults/offboarding/actions.py). A reader needs all of them to follow completion.
        "cleanup_plans": [{"id": p.pk, "title": p.title, "status": p.status} for p in case.plans()],
    }


def latest_case(op_user: OpUser) -> OffboardingCase | None:
    cases = OffboardingCase.objects.filter(op_user=op_user).select_related("account", "op_user", "plan")
    return cases.filter(status=OffboardingCase.Status.OPEN).first() or cases.order_by("-opened_at", "-pk").first()


def plan_for(op_user: OpUser) -> tuple[OffboardingCase | None, OffboardingPlan]:
    """The person's case (open, else the latest) and its plan; without a case, the lookback up to today."""
    case = latest_case(op_user)
    if case is not None:
        return case, case_plan(case)
    since, until = default_window()
    return None, build_plan(op_user, since=since, until=until)


def plan_document(op_user: OpUser) -> dict[str, Any]:
    case, plan = plan_for(op_user)
    return {
        "case": case_as_dict(case) if case else None,
        **plan.as_dict(),
        "open_items": blockers(case) if case is not None and case.is_open else [],
    }


def find_person(email: str, *, account: Account | None = None) -> OpUser:
    people = OpUser.objects.filter(email__iexact=email.strip()).select_related("account")
    if account is not None:
        people = people.filter(account=account)
    found = list(people)
    if not found:
        raise PersonNotFound(f"No person with the e-mail {email!r}{f' in {account.name}' if account else ''}.")
    if len(found) > 1:
        names = ", ".join(sorted(p.account.name for p in found))
        raise PersonNotFound(f"{email!r} is in several accounts ({names}): pass --account.")
    return found[0]
