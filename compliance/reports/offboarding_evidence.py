"""Offboarding evidence (SOC 2 CC6.3 removals, ISO 27001 A.5.18 access removal and A.5.11 return
of assets): the leavers' cases active in the period, each with its timeline and SLA outcome as
they stood at the period's end (point-in-time: a case completed after the period is open in it).

A period with no case says so; it is evidence only when OpenClaw watched the members' states over
the whole period (its history started by the period's start), otherwise "No evidence".
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Q

from compliance.reports.document import Cell, Column, Kpi, Section, table
from compliance.reports.evidence import Evidence
from openclaw_web.text import plural
from vaults.cleanup.models import Approval, ProposedAction
from vaults.offboarding.models import OffboardingCase

KEY = "offboarding"
NO_WATCH = "OpenClaw did not watch the members' states over the whole period (its history starts later)"
COLUMNS = [
    Column("Person", width=28), Column("E-mail", width=30, in_pdf=False), Column("Why", width=22),
    Column("Leave date", "date", 12), Column("Due", "date", 12), Column("At period end", width=22),
    Column("Timeline (UTC)", width=60, max_chars=400),
]


@dataclass(frozen=True)
class CaseAtEnd:
    case: OffboardingCase
    outcome: str  # "Completed in time", "Completed late", "Open, overdue", "Open, in time", "Cancelled"
    breach: bool
    timeline: str
    rejected: int = 0  # rotations of the case's plan an approver rejected: secrets left as they were


def _rejected_rotations(case: OffboardingCase) -> int:
    plans = case.plans()
    if not plans:
        return 0
    return ProposedAction.objects.filter(
        plan__in=plans, kind=ProposedAction.Kind.ROTATE_SECRET, status=ProposedAction.Status.REJECTED
    ).count()


def _cases(ev: Evidence) -> list[OffboardingCase]:
    ended_before = Q(completed_at__lt=ev.period.start)
    return list(
        OffboardingCase.objects.filter(account__in=ev.accounts, opened_at__lt=ev.as_of)
        .exclude(ended_before)
        .select_related("opened_by", "plan")
        .order_by("leave_date", "pk")
    )


def _timeline(case: OffboardingCase, as_of: datetime.datetime) -> str:
    by = f"by {case.opened_by_label}" if case.opened_by else case.opened_by_label
    steps = [f"opened {case.opened_at:%Y-%m-%d} ({by})"]
    if case.plan_created_at is not None and case.plan_created_at < as_of:
        steps.append(f"actions created {case.plan_created_at:%Y-%m-%d}")
        approvals = Approval.objects.filter(
            action__plan_id=case.plan_id, decision=Approval.Decision.APPROVE, created_at__lt=as_of
        )
        first = approvals.order_by("created_at").first()
        if first is not None:
            steps.append(f"first approval {first.created_at:%Y-%m-%d} ({approvals.values('action').distinct().count()} actions approved)")
    if case.completed_at is not None and case.completed_at < as_of:
        word = "completed" if case.status == OffboardingCase.Status.COMPLETED else "cancelled"
        steps.append(f"{word} {case.completed_at:%Y-%m-%d}")
    return "; ".join(steps)


def at_end(ev: Evidence) -> list[CaseAtEnd]:
    rows = []
    end_day = ev.as_of.date()
    for case in _cases(ev):
        closed = case.completed_at is not None and case.completed_at < ev.as_of
        if closed and case.status == OffboardingCase.Status.CANCELLED:
            outcome, breach = "Cancelled", False
        elif closed:
            late = case.completed_at is not None and case.completed_at.date() > case.due_date
            outcome, breach = ("Completed late", True) if late else ("Completed in time", False)
            rejected = _rejected_rotations(case)
            if rejected:
                outcome += f", {plural(rejected, 'rotation', 'rotations')} rejected"
            rows.append(CaseAtEnd(case, outcome, breach, _timeline(case, ev.as_of), rejected))
            continue
        elif case.due_date < end_day:
            outcome, breach = "Open, overdue", True
        else:
            outcome, breach = "Open, in time", False
        rows.append(CaseAtEnd(case, outcome, breach, _timeline(case, ev.as_of)))
    return rows


def watched_whole_period(ev: Evidence) -> bool:
    since = ev.history_since
    return bool(ev.accounts) and all(s is not None and s <= ev.period.start for s in since.values())


def evidence_line_parts(ev: Evidence) -> tuple[bool, str, int]:
    """(has data, sentence, exceptions) for the controls' evidence line."""
    if not watched_whole_period(ev):
        return False, f"No evidence: {NO_WATCH}.", 0
    rows = at_end(ev)
    if not rows:
        return True, ("No leaver in the period: no member was suspended or removed and nobody was marked as leaving, "
                      "so no offboarding case was due."), 0
    breaches = sum(r.breach for r in rows)
    done = [r for r in rows if r.outcome.startswith("Completed")]
    # A case closes when its rotations were rejected too ("an approver's decision not to rotate"):
    # counted apart, never as "secrets rotated".
    unrotated = sum(1 for r in done if r.rejected)
    completed = f"{len(done) - unrotated:,} completed (secrets rotated, access removed)"
    if unrotated:
        completed += f", {unrotated:,} completed with rotations an approver rejected (secrets not rotated)"
    return True, (f"{plural(len(rows), 'offboarding case', 'offboarding cases')} in the period: {completed}, "
                  f"{plural(breaches, 'missed its SLA', 'missed their SLA')}."), breaches


def asset_return_line_parts(ev: Evidence) -> tuple[bool, str, int]:
    """(has data, sentence, exceptions) for ISO A.5.11, return of assets: in a password manager a
    leaver "returns" the secrets they used or could copy when those are rotated and their access
    removed, which is what a completed case proves. Unlike the access-removal line, a period with
    no leaver is no evidence (nothing was returned, so nothing shows the process works), and a
    cancelled case is no leaver. Each case counts once as an exception: open past its due date,
    completed late, or completed with rotations an approver rejected (the copies still work)."""
    if not watched_whole_period(ev):
        return False, f"No evidence: {NO_WATCH}.", 0
    rows = [r for r in at_end(ev) if r.outcome != "Cancelled"]
    if not rows:
        return False, "No evidence: no leaver's offboarding case in the period, so no return of credentials to show.", 0
    flagged = [r for r in rows if r.breach or r.rejected]
    in_time = sum(1 for r in rows if r.outcome == "Completed in time" and not r.rejected)
    still_open = sum(1 for r in rows if r.outcome == "Open, in time")
    if not flagged and not any(r.outcome.startswith("Completed") for r in rows):
        # Cases still running within their due date show nothing returned yet: no pass.
        return False, (f"No evidence: no leaver's case completed in the period yet "
                       f"({plural(still_open, 'case', 'cases')} open within their due date)."), 0
    rejected = sum(1 for r in rows if r.rejected)
    late = sum(1 for r in rows if r.breach)
    return True, (f"{plural(len(rows), 'leaver', 'leavers')} in the period: {in_time:,} completed in time (the "
                  f"credentials they used or could copy rotated, their access removed), {still_open:,} open within "
                  f"their due date, {late:,} overdue or completed late, {rejected:,} with rotations an approver "
                  "rejected (secrets they could copy still valid)."), len(flagged)


def offboarding_section(ev: Evidence) -> Section:
    if not watched_whole_period(ev):
        return Section(key=KEY, title="Leavers (offboarding)", intro=f"No evidence: {NO_WATCH}.",
                       kpis=[Kpi("Cases", "no data", "", "warn")])
    rows = at_end(ev)

    def cells(r: CaseAtEnd) -> tuple[Cell, ...]:
        c = r.case
        return (c.name or c.email, c.email, c.get_reason_display(), c.leave_date, c.due_date, r.outcome, r.timeline)

    breaches = sum(r.breach for r in rows)
    intro = ("Each leaver's case lists the secrets they used or could copy and the access to remove; it is due a set "
             "number of days after the leave date. Status as at the period's end.")
    if not rows:
        intro += " No offboarding case in the period: no member was suspended or removed and nobody was marked as leaving."
    return Section(
        key=KEY, title="Leavers (offboarding)", intro=intro,
        kpis=[Kpi("Cases", f"{len(rows):,}", "active in the period"),
              Kpi("Missed SLA", f"{breaches:,}", "overdue or completed late", "bad" if breaches else "good")],
        tables=[table(KEY, "Offboarding cases", COLUMNS, [cells(r) for r in rows])] if rows else [],
    )
