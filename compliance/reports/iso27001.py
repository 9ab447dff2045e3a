"""The ISO/IEC 27001:2022 report: the SOC 2 evidence mapped to Annex A controls."""

from __future__ import annotations

import datetime

from compliance import audit
from compliance.controls import ISO_CONTROLS
from compliance.reports import break_glass, offboarding_evidence, review_evidence, sections, verdicts
from compliance.reports.document import ReportDocument
from compliance.reports.evidence import Evidence
from compliance.reviews.periods import Period
from vaults.models import Account


def build(*, period: Period, accounts: list[Account], generator: str, now: datetime.datetime) -> ReportDocument:
    ev = Evidence(period=period, accounts=accounts, now=now)
    figures = sections.headline_figures(ev)
    return ReportDocument(
        kind="iso27001", title="ISO/IEC 27001:2022 Annex A evidence", period=period, generated_at=now,
        generator=generator, chain_seq=(anchor := audit.chain_anchor()).seq, chain_head=anchor.head,
        accounts=[a.name for a in accounts], figures=figures,
        sign_offs=review_evidence.sign_offs(ev.reviews()),
        sections=[
            sections.summary_section(ev, figures),
            sections.usage_coverage_section(ev),
            verdicts.control_section(
                "controls", "Annex A controls: statements and evidence",
                "For each control: what it asks is met how (statement), and what was measured in the period.",
                ISO_CONTROLS, ev),
            sections.access_inventory_section(ev),
            sections.access_section(ev),
            sections.access_changes_section(ev),
            offboarding_evidence.offboarding_section(ev),
            sections.rotation_section(ev),
            sections.violations_section(ev),
            break_glass.section(ev),
            sections.reviews_section(ev),
            verdicts.privileged_access_section(ev),
            verdicts.signins_section(ev),
            sections.quarter_section(ev),
            sections.recommendations_section(ev, figures),
        ],
    )
