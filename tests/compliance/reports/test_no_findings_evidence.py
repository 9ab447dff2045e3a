"""A period that ended before the first findings run has no findings evidence: its counts of open
findings, policy violations and overdue rotations are "no data", never a clean 0 in green.

The organisation is synced and its findings computed now, so the same report's current quarter
(and today's period) carry real counts: the decoys that must stay numbers."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from compliance.reports.builders import build_report
from compliance.reports.document import ReportDocument, Section
from compliance.reviews.periods import period_containing
from tests.vaults.factories import make_account
from vaults.findings.models import Finding

pytestmark = pytest.mark.django_db

NO_DATA = "no data"


def _section(document: ReportDocument, key: str) -> Section:
    return next(s for s in document.sections if s.key == key)


def _rows(section: Section, key: str) -> list[tuple[object, ...]]:
    return [tuple(row) for row in next(t for t in section.tables if t.key == key).rows()]


def test_a_quarter_before_the_first_findings_run_shows_no_data_not_zero_violations(synced_org):
    now = timezone.now()
    before = period_containing(now - datetime.timedelta(days=200))
    document = build_report(kind="soc2", period=before, generator="tester", now=now)

    assert document.figures["violations_open"] is None
    assert document.figures["open_findings"] is None
    assert document.figures["rotation"]["overdue"] is None and document.figures["rotation"]["due_soon"] is None

    summary = _section(document, "summary")
    violations_kpi = next(k for k in summary.kpis if k.label == "Policy violations")
    assert violations_kpi.value == "n/a" and violations_kpi.tone == ""
    assert "no findings computed" in violations_kpi.note
    key_figures = {row[0]: row[1] for row in _rows(summary, "key_figures")}
    for metric in ("Open findings (all kinds)", "Policy violations open", "Rotation overdue", "Rotation due within 30 days"):
        assert key_figures[metric] == NO_DATA, metric

    rotation = _section(document, "rotation")
    assert [(k.value, k.tone) for k in rotation.kpis if k.label in ("Overdue", "Due in 30 days")] == [("n/a", "")] * 2
    for row in _rows(_section(document, "violations"), "violations_by_kind"):
        assert row[1:] == (NO_DATA,) * 4, row


def test_the_quarter_table_gives_counts_only_for_quarters_with_a_findings_run(synced_org):
    now = timezone.now()
    document = build_report(kind="soc2", period=period_containing(now), generator="tester", now=now)
    rows = _rows(_section(document, "quarters"), "quarters")
    current, earlier = rows[-1], rows[:-1]

    present_now = Finding.objects.filter(status__in=["open", "accepted"]).count()
    assert current[2] == present_now > 0  # the decoy: this quarter has a run, so it counts
    assert all(row[2:6] == (NO_DATA,) * 4 for row in earlier), earlier


def test_today_keeps_its_counts_and_the_hygiene_report_says_no_evidence_before_the_first_run(synced_org):
    now = timezone.now()
    today = build_report(kind="soc2", period=period_containing(now), generator="tester", now=now)
    assert today.figures["violations_open"] == Finding.objects.filter(
        status="open", kind__in=["duplicate", "weak", "overdue_rotation"]).count() > 0  # fmt: skip
    assert next(k for k in _section(today, "summary").kpis if k.label == "Policy violations").tone == "bad"

    before = period_containing(now - datetime.timedelta(days=200))
    hygiene = build_report(kind="hygiene", period=before, generator="tester", now=now)
    findings = _section(hygiene, "findings")
    assert hygiene.figures["open_findings"] is None
    assert findings.intro.startswith("No evidence: findings were not computed by the end of this period")
    assert [(k.value, k.tone) for k in findings.kpis] == [("n/a", "")]
    by_kind = _rows(findings, "findings_by_kind")
    assert len(by_kind) == len(Finding.Kind.values)
    assert all(row[1:] == (NO_DATA,) * 4 for row in by_kind), by_kind

    today_hygiene = build_report(kind="hygiene", period=period_containing(now), generator="tester", now=now)
    open_now = [row[1] for row in _rows(_section(today_hygiene, "findings"), "findings_by_kind")]
    assert all(isinstance(n, int) for n in open_now), open_now  # the decoy: counts, not "no data"
    assert sum(n for n in open_now if isinstance(n, int)) == Finding.objects.filter(status="open").count() > 0


def test_an_account_never_computed_leaves_the_other_accounts_listed_findings_counted(synced_org):
    """The open count is unknown for the organisation, yet the detail table still lists the
    computed account's findings: its size must be their number, not 0 (which hid the 'first N
    of M rows' note)."""
    make_account(name="Never computed")
    now = timezone.now()
    hygiene = build_report(kind="hygiene", period=period_containing(now), generator="tester", now=now)
    detail = next(t for t in _section(hygiene, "findings").tables if t.key == "findings")

    assert hygiene.figures["open_findings"] is None
    assert detail.total == Finding.objects.filter(status="open").count() > 0
