"""Run the engine and read findings back, for the rule tests."""

from __future__ import annotations

import datetime

from vaults.findings.engine import compute_findings
from vaults.findings.models import Finding
from vaults.models import Account


def open_findings(account: Account, kind: str, *, now: datetime.datetime | None = None) -> list[Finding]:
    compute_findings(account=account, now=now)
    return list(Finding.objects.filter(account=account, kind=kind, status=Finding.Status.OPEN).order_by("pk"))
