"""Accepting a finding's risk (until a date, with a reason) and reopening it.

Both are decisions a person makes, so each changed finding gets one audit-log entry, and a new
status span (vaults/findings/status_history.py) so a closed period keeps what was true then. Findings
already in the target state are skipped, so repeating a request changes and records nothing.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from compliance import audit
from vaults.findings import status_history
from vaults.findings.models import Finding


@transaction.atomic
def accept_risk(
    *,
    findings: Iterable[Finding],
    reason: str,
    until: datetime.date,
    by: User,
    request: HttpRequest | None = None,
) -> list[Finding]:
    """Mark open findings as accepted risk until `until`; returns the findings changed. Resolved
    findings are not accepted (there is nothing left to accept)."""
    now = timezone.now()
    changed = []
    for finding in findings:
        if finding.status != Finding.Status.OPEN:
            continue
        finding.status = Finding.Status.ACCEPTED
        finding.accepted_reason = reason
        finding.accepted_until = until
        finding.accepted_by = by
        finding.accepted_at = now
        changed.append(finding)
    Finding.objects.bulk_update(changed, ["status", "accepted_reason", "accepted_until", "accepted_by", "accepted_at"])
    status_history.record(finding_ids=[f.pk for f in changed], at=now)
    for finding in changed:
        audit.record(
            "finding.risk_accepted",
            actor=by,
            request=request,
            target=finding,
            details={"kind": finding.kind, "reason": reason, "until": until.isoformat()},
        )
    return changed


@transaction.atomic
def reopen(*, findings: Iterable[Finding], by: User, request: HttpRequest | None = None) -> list[Finding]:
    """Put accepted findings back to open (resolved ones reopen by themselves when seen again)."""
    changed = [f for f in findings if f.status == Finding.Status.ACCEPTED]
    for finding in changed:
        finding.status = Finding.Status.OPEN
        finding.accepted_until = None
    Finding.objects.bulk_update(changed, ["status", "accepted_until"])
    status_history.record(finding_ids=[f.pk for f in changed], at=timezone.now())
    for finding in changed:
        audit.record("finding.reopened", actor=by, request=request, target=finding, details={"kind": finding.kind})
    return changed
