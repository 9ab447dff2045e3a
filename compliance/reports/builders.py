"""Which builder makes which report kind."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.db.models import Exists, OuterRef, Q

from compliance.reports import hygiene, iso27001, soc2
from compliance.reports.document import ReportDocument
from compliance.reports.models import ReportKind
from compliance.reviews.periods import Period
from vaults.models import Account, ItemUsage, SignInAttempt

Builder = Callable[..., ReportDocument]

BUILDERS: dict[str, Builder] = {
    ReportKind.SOC2: soc2.build,
    ReportKind.ISO27001: iso27001.build,
    ReportKind.HYGIENE: hygiene.build,
}


def accounts_in_scope(period: Period) -> list[Account]:
    """"All accounts" for a period: those added to OpenClaw by its end, or whose Events API data
    reaches into it. An account added later with nothing about the period would only turn a closed
    period's verdicts into "No evidence" and change them on regeneration."""
    end = period.end
    usage = ItemUsage.objects.filter(account=OuterRef("pk"), timestamp__lt=end)
    signins = SignInAttempt.objects.filter(account=OuterRef("pk"), timestamp__lt=end)
    return list(Account.objects.filter(Q(created_at__lt=end) | Exists(usage) | Exists(signins)).order_by("name"))


def build_report(*, kind: str, period: Period, accounts: list[Account] | None = None, generator: str,
                 now: datetime.datetime) -> ReportDocument:
    if kind not in BUILDERS:
        raise ValueError(f"Unknown report kind {kind!r}; choose one of {', '.join(BUILDERS)}.")
    chosen = accounts if accounts is not None else accounts_in_scope(period)
    return BUILDERS[kind](period=period, accounts=chosen, generator=generator, now=now)
