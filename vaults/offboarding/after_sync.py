"""What a successful sync does for leavers: open cases for new ones (cases.py says who), then
complete the open cases that have nothing left (completion.py)."""

from __future__ import annotations

from vaults.models import Account
from vaults.offboarding.cases import leaver_candidates, open_case
from vaults.offboarding.completion import refresh_open_cases
from vaults.offboarding.models import OffboardingCase


def open_cases_after_sync(account: Account) -> list[OffboardingCase]:
    """Open a case for each new leaver, leave date = the day the sync first saw them inactive;
    then re-check every open case's completion."""
    opened = [
        open_case(user, leave_date=seen.date(), reason=OffboardingCase.Reason.BECAME_INACTIVE)
        for user, seen in leaver_candidates(account)
    ]
    refresh_open_cases(account)
    return opened
