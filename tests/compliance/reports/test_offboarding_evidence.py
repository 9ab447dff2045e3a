"""Leavers in the SOC 2 (CC6.3) and ISO 27001 (A.5.18) reports: the period's cases with their SLA
outcome at the period's end; no case → said in words; no watch over the period → "No evidence"."""

from __future__ import annotations

import datetime

import pytest

from compliance.controls import ISO_CONTROLS, SOC2_CONTROLS
from compliance.reports import offboarding_evidence, verdicts
from compliance.reports.evidence import Evidence
from compliance.reviews.periods import Period
from tests.vaults.factories import make_account, make_op_user
from vaults.models import Account, HistoryStart
from vaults.offboarding.models import OffboardingCase

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
START = datetime.datetime(2026, 7, 1, tzinfo=UTC)
END = datetime.datetime(2026, 10, 1, tzinfo=UTC)
Q3 = Period(start=START, end=END, label="2026Q3")
AFTER_Q3 = END + datetime.timedelta(days=40)


def _case(account: Account, name: str, *, opened: datetime.datetime, completed: datetime.datetime | None = None,
          status: str = "open") -> OffboardingCase:
    person = make_op_user(account=account, name=name, email=f"{name.lower()}@example.com", state="SUSPENDED")
    return OffboardingCase.objects.create(
        account=account, op_user=person, email=person.email, name=name, reason="became_inactive",
        leave_date=opened.date(), due_date=opened.date() + datetime.timedelta(days=7), lookback_days=90,
        opened_at=opened, completed_at=completed, status=status,
    )


def _watched(account: Account, since: datetime.datetime = START - datetime.timedelta(days=1)) -> Account:
    HistoryStart.objects.create(account=account, since=since)
    return account


def test_cases_are_listed_with_their_outcome_at_the_period_end_and_breaches_are_exceptions() -> None:
    account = _watched(make_account())
    _case(account, "Intime", opened=START + datetime.timedelta(days=10), completed=START + datetime.timedelta(days=12),
          status="completed")
    _case(account, "Late", opened=START + datetime.timedelta(days=20), completed=START + datetime.timedelta(days=40),
          status="completed")
    _case(account, "Overdue", opened=END - datetime.timedelta(days=20))
    # Completed after the period: in the period it was still open (and 3 days from its due date: in time).
    _case(account, "Later", opened=END - datetime.timedelta(days=4), completed=END + datetime.timedelta(days=3), status="completed")
    # Decoys: closed before the period; opened after it.
    _case(account, "Before", opened=START - datetime.timedelta(days=30), completed=START - datetime.timedelta(days=25),
          status="completed")
    _case(account, "After", opened=END + datetime.timedelta(days=1))

    ev = Evidence(period=Q3, accounts=[account], now=AFTER_Q3)
    got = [(r.case.name, r.outcome, r.breach) for r in offboarding_evidence.at_end(ev)]
    assert got == [
        ("Intime", "Completed in time", False),
        ("Late", "Completed late", True),
        ("Overdue", "Open, overdue", True),
        ("Later", "Open, in time", False),
    ]
    line = verdicts.evidence_lines(ev)["offboarding"]
    assert line.available and line.exceptions == 2
    assert line.text == ("4 offboarding cases in the period: 2 completed (secrets rotated, access removed), "
                         "2 missed their SLA.")
    cc63 = next(c for c in SOC2_CONTROLS if c.ref == "CC6.3")
    a518 = next(c for c in ISO_CONTROLS if c.ref == "A.5.18")
    for control in (cc63, a518):
        assert verdicts.verdict(control, verdicts.evidence_lines(ev), {}).startswith("Exceptions noted")
    section = offboarding_evidence.offboarding_section(ev)
    assert [row[0] for row in section.tables[0].top] == ["Intime", "Late", "Overdue", "Later"]
    assert section.tables[0].top[1][6].startswith(f"opened {START + datetime.timedelta(days=20):%Y-%m-%d} (sync)")
    assert "completed 2026-08-10" in section.tables[0].top[1][6]


def test_a_quiet_watched_period_says_no_leaver_and_is_no_exception() -> None:
    account = _watched(make_account())
    ev = Evidence(period=Q3, accounts=[account], now=AFTER_Q3)
    line = verdicts.evidence_lines(ev)["offboarding"]
    assert line.available and line.exceptions == 0 and line.text.startswith("No leaver in the period")
    assert offboarding_evidence.offboarding_section(ev).tables == []


def test_a_period_openclaw_did_not_watch_is_no_evidence_never_effective() -> None:
    account = _watched(make_account(), since=START + datetime.timedelta(days=30))
    ev = Evidence(period=Q3, accounts=[account], now=AFTER_Q3)
    line = verdicts.evidence_lines(ev)["offboarding"]
    assert not line.available and line.text.startswith("No evidence")
    cc63 = next(c for c in SOC2_CONTROLS if c.ref == "CC6.3")
    assert verdicts.verdict(cc63, verdicts.evidence_lines(ev), {}) != verdicts.EFFECTIVE
