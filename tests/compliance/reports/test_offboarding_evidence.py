"""Leavers in the SOC 2 (CC6.3) and ISO 27001 (A.5.18, A.5.11) reports: the period's cases with their
SLA outcome at the period's end; no case → said in words (A.5.11: "No evidence"); no watch over the
period → "No evidence"; A.5.11 also flags rotations an approver rejected."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import User

from compliance.controls import ISO_CONTROLS, SOC2_CONTROLS
from compliance.reports import offboarding_evidence, verdicts
from compliance.reports.evidence import Evidence
from compliance.reviews.periods import Period
from tests.vaults.factories import make_account, make_item, make_op_user, make_vault
from vaults.cleanup.models import CleanupPlan, ProposedAction
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


# --- ISO A.5.11 return of assets: its own control, its own rule ----------------------------------

A511 = next(c for c in ISO_CONTROLS if c.ref == "A.5.11")
DAY = datetime.timedelta(days=1)


def _a511(ev: Evidence) -> verdicts.Verdict:
    return verdicts.verdict(A511, verdicts.evidence_lines(ev), {})


def _rejected_rotation(case: OffboardingCase) -> None:
    """An approver refused to rotate one of the leaver's secrets: the copy they hold still works."""
    proposer = User.objects.create_user("lead")
    plan = CleanupPlan.objects.create(account=case.account, title="Offboarding", proposed_by=proposer)
    vault = make_vault(account=case.account, name="Ops")
    ProposedAction.objects.create(plan=plan, kind=ProposedAction.Kind.ROTATE_SECRET, vault=vault,
                                  item=make_item(vault=vault, title="Root"), identity=ProposedAction.Identity.SERVICE_ACCOUNT,
                                  status=ProposedAction.Status.REJECTED)
    OffboardingCase.objects.filter(pk=case.pk).update(plan=plan)


def test_return_of_assets_is_its_own_annex_a_control_with_what_openclaw_cannot_show() -> None:
    assert A511.evidence == ("asset_return",) and A511.title == "Return of assets"
    assert "Physical assets, devices" in A511.elsewhere
    a518 = next(c for c in ISO_CONTROLS if c.ref == "A.5.18")
    assert "asset_return" not in a518.evidence and "A.5.11" not in a518.statement


def test_a_leaver_completed_in_time_is_effective_whatever_the_decoys_around_the_period() -> None:
    account = _watched(make_account())
    _case(account, "Intime", opened=START + 10 * DAY, completed=START + 12 * DAY, status="completed")
    # Decoys: a cancelled case (no leaver), one opened after the period's end, one closed before its start.
    _case(account, "Stayed", opened=START + 20 * DAY, completed=START + 21 * DAY, status="cancelled")
    _case(account, "After", opened=END + DAY)
    _case(account, "Before", opened=START - 30 * DAY, completed=START - 25 * DAY, status="completed")

    ev = Evidence(period=Q3, accounts=[account], now=AFTER_Q3)
    line = verdicts.evidence_lines(ev)["asset_return"]

    assert _a511(ev) == verdicts.EFFECTIVE
    assert line.text.startswith("1 leaver in the period: 1 completed in time")


def test_a_period_with_only_a_cancelled_case_or_a_case_opened_after_it_is_no_evidence_for_a511_alone() -> None:
    account = _watched(make_account())
    _case(account, "Stayed", opened=START + 20 * DAY, completed=START + 21 * DAY, status="cancelled")
    _case(account, "After", opened=END + DAY)

    ev = Evidence(period=Q3, accounts=[account], now=AFTER_Q3)
    lines = verdicts.evidence_lines(ev)

    assert _a511(ev) == verdicts.NO_EVIDENCE
    assert lines["asset_return"].text.startswith("No evidence: no leaver's offboarding case in the period")
    assert lines["offboarding"].available  # the access-removal line: no leaver is a fact about access, not a gap


def test_a_period_openclaw_did_not_watch_is_no_evidence_for_return_of_assets_even_with_a_case() -> None:
    account = _watched(make_account(), since=START + 30 * DAY)
    _case(account, "Intime", opened=START + 40 * DAY, completed=START + 42 * DAY, status="completed")

    assert _a511(Evidence(period=Q3, accounts=[account], now=AFTER_Q3)) == verdicts.NO_EVIDENCE


def test_overdue_late_and_rejected_rotation_cases_are_exceptions_each_counted_once() -> None:
    account = _watched(make_account())
    _case(account, "Intime", opened=START + 10 * DAY, completed=START + 12 * DAY, status="completed")
    _case(account, "Overdue", opened=END - 20 * DAY)
    _case(account, "Late", opened=START + 20 * DAY, completed=START + 40 * DAY, status="completed")
    refused = _case(account, "Refused", opened=START + 30 * DAY, completed=START + 31 * DAY, status="completed")
    _rejected_rotation(refused)
    # Late AND a rotation rejected: one case, one exception.
    both = _case(account, "LateRefused", opened=START + 50 * DAY, completed=START + 70 * DAY, status="completed")
    OffboardingCase.objects.filter(pk=both.pk).update(plan=OffboardingCase.objects.get(pk=refused.pk).plan)

    ev = Evidence(period=Q3, accounts=[account], now=AFTER_Q3)
    verdict = _a511(ev)
    line = verdicts.evidence_lines(ev)["asset_return"]

    assert verdict == "Exceptions noted (4): see Offboarding cases"
    assert line.text == ("5 leavers in the period: 1 completed in time (the credentials they used or could copy "
                         "rotated, their access removed), 0 open within their due date, 3 overdue or completed late, "
                         "2 with rotations an approver rejected (secrets they could copy still valid).")
    # A.5.18 keeps its own rule: a rejected rotation alone is not an SLA breach there.
    assert verdicts.evidence_lines(ev)["offboarding"].exceptions == 3


def test_a_case_open_within_its_due_date_at_the_period_end_is_no_exception_and_no_pass_alone() -> None:
    account = _watched(make_account())
    _case(account, "Recent", opened=END - 3 * DAY)

    ev = Evidence(period=Q3, accounts=[account], now=AFTER_Q3)

    # Nothing returned yet: no exception, and no evidence that the process works either.
    line = verdicts.evidence_lines(ev)["asset_return"]
    assert _a511(ev) == verdicts.NO_EVIDENCE and line.exceptions == 0
    assert line.text == "No evidence: no leaver's case completed in the period yet (1 case open within their due date)."

    # With one case completed in time beside it, the open one is simply counted.
    _case(account, "Intime", opened=START + 10 * DAY, completed=START + 12 * DAY, status="completed")
    ev = Evidence(period=Q3, accounts=[account], now=AFTER_Q3)
    assert _a511(ev) == verdicts.EFFECTIVE
    assert "1 open within their due date" in verdicts.evidence_lines(ev)["asset_return"].text
