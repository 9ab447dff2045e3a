"""Which builder makes which report kind."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from compliance.reports import hygiene, iso27001, soc2
from compliance.reports.document import ReportDocument
from compliance.reports.models import ReportKind
from compliance.reviews.periods import Period
from vaults.models import Account

Builder = Callable[..., ReportDocument]

BUILDERS: dict[str, Builder] = {
    ReportKind.SOC2: soc2.build,
    ReportKind.ISO27001: iso27001.build,
    ReportKind.HYGIENE: hygiene.build,
}


def build_report(*, kind: str, period: Period, accounts: list[Account] | None = None, generator: str,
                 now: datetime.datetime) -> ReportDocument:
    if kind not in BUILDERS:
        raise ValueError(f"Unknown report kind {kind!r}; choose one of {', '.join(BUILDERS)}.")
    chosen = accounts if accounts is not None else list(Account.objects.order_by("name"))
    return BUILDERS[kind](period=period, accounts=chosen, generator=generator, now=now)
