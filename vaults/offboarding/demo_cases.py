"""The demo's leavers: its suspended members were suspended before OpenClaw's first sync, so the
sync opens no case for them (cases.py, rule 2). The demo plays the administrator who marks them
as leaving, one of them long enough ago that the case is overdue."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import User
from django.utils import timezone

from vaults.models import Account, OpUser
from vaults.models.access import service_accounts
from vaults.offboarding.cases import open_case
from vaults.offboarding.models import OffboardingCase

# Days before today of each leaver's leave date: the first is past its 7-day SLA, the next are not.
LEAVE_DAYS_AGO = (12, 3, 1)


def open_demo_cases(*, account: Account, opened_by: User) -> list[OffboardingCase]:
    leavers = [
        u for u in OpUser.objects.filter(account=account).exclude(service_accounts()).order_by("name", "pk")
        if u.state_class == "inactive"
    ]
    today = timezone.now().date()
    return [
        open_case(person, leave_date=today - datetime.timedelta(days=days), reason=OffboardingCase.Reason.MARKED_LEAVING,
                  opened_by=opened_by)
        for person, days in zip(leavers, LEAVE_DAYS_AGO, strict=False)
    ]
