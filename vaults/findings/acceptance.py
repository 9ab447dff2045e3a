"""Accepting a finding's risk (until a date, with a reason) and reopening it.

Both are decisions a person makes, so each changed finding gets one audit-log entry, and a new
status span (vaults/findings/status_history.py) so a closed period keeps what was true then. Findings
already in the target state are skipped, so repeating a request changes and records nothing.
The pages' finding counts (vaults/findings/counts.py) follow in the same transaction; the
findings are read again under the account's lock, after any findings run that held it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from compliance import audit
from vaults.findings import counts, status_history
from vaults.findings.models import Finding


def _current(findings: Iterable[Finding]) -> list[Finding]:
    """The findings as stored once their accounts are locked: the caller's copies were read
    before, and a findings run may have resolved or reopened some since."""
    ids = [f.pk for f in findings]
    counts.lock_accounts(Finding.objects.filter(pk__in=ids).values_list("account_id", flat=True).distinct())
    return list(Finding.objects.filter(pk__in=ids).order_by("pk"))


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
    for finding in _current(findings):
        if finding.status != Finding.Status.OPEN:
            continue
        finding.status = Finding.Status.ACCEPTED
        finding.accepted_reason = reason
        finding.accepted_until = until
        finding.accepted_by = by
        finding.accepted_at = now
        changed.append(finding)
    Finding.objects.bulk_update(changed, ["status", "accepted_reason", "accepted_until", "accepted_by", "accepted_at"])
    counts.record_moves(changed, before=Finding.Status.OPEN, after=Finding.Status.ACCEPTED)
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
    changed = [f for f in _current(findings) if f.status == Finding.Status.ACCEPTED]
    for finding in changed:
        finding.status = Finding.Status.OPEN
        finding.accepted_until = None
    Finding.objects.bulk_update(changed, ["status", "accepted_until"])
    counts.record_moves(changed, before=Finding.Status.ACCEPTED, after=Finding.Status.OPEN)
    status_history.record(finding_ids=[f.pk for f in changed], at=timezone.now())
    for finding in changed:
        audit.record("finding.reopened", actor=by, request=request, target=finding, details={"kind": finding.kind})
    return changed
