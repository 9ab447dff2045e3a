"""The reports' audit-log evidence: entries counted up to the period's end (the same on every
regeneration), and a cut tail — invisible to the chain on its own — fails the report's line."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from compliance.audit_anchors import write_anchor
from compliance.models import AuditAnchor
from compliance.reports.evidence import Evidence
from compliance.reports.verdicts import evidence_lines
from compliance.reviews.periods import period_containing
from tests.compliance.audit_chain_scenarios import cut_tail, record

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def anchor_file(settings, tmp_path):
    settings.AUDIT_ANCHOR_FILE = tmp_path / "anchors" / "audit-anchor.json"
    return settings.AUDIT_ANCHOR_FILE


def audit_line(now: datetime.datetime | None = None):
    now = now or timezone.now()
    return evidence_lines(Evidence(period=period_containing(now), accounts=[], now=now))["audit_log"]


def test_an_intact_chain_with_its_anchors_is_no_exception():
    record(6)
    write_anchor(source=AuditAnchor.Source.DAILY)

    line = audit_line()

    assert line.exceptions == 0
    assert "verified intact" in line.text and "6 entries" in line.text


def test_a_cut_tail_fails_the_report_line_though_the_chain_itself_is_intact():
    record(6)
    write_anchor(source=AuditAnchor.Source.DAILY)
    cut_tail(from_seq=5)

    line = audit_line()

    assert line.exceptions >= 1
    assert "FAILED verification" in line.text


def test_a_closed_period_counts_the_entries_written_by_its_end_whenever_it_is_regenerated(monkeypatch):
    last_quarter = period_containing(timezone.now()).previous()
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: last_quarter.end - datetime.timedelta(days=3))
    record(4)  # written during the closed quarter
    monkeypatch.setattr(timezone, "now", real_now)
    generated_then = Evidence(period=last_quarter, accounts=[], now=timezone.now()).audit_at_end

    record(3, start=4)  # written after it, e.g. by the generation itself
    generated_again = Evidence(period=last_quarter, accounts=[], now=timezone.now()).audit_at_end

    assert generated_then == generated_again
    assert generated_then[0] == 4 and generated_then[1].seq == 4
    # Decoy: the current quarter does see the later entries.
    assert Evidence(period=period_containing(timezone.now()), accounts=[]).audit_at_end[0] == 7
