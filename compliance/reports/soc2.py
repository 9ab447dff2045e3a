"""The SOC 2 access review report: one builder, rendered as HTML, PDF and Excel."""

from __future__ import annotations

import datetime

from compliance import audit
from compliance.controls import SOC2_CONTROLS
from compliance.reports import break_glass, offboarding_evidence, review_evidence, sections, verdicts
from compliance.reports.document import ReportDocument
from compliance.reports.evidence import Evidence
from compliance.reviews.periods import Period
from vaults.models import Account


def build(*, period: Period, accounts: list[Account], generator: str, now: datetime.datetime) -> ReportDocument:
    ev = Evidence(period=period, accounts=accounts, now=now)
    figures = sections.headline_figures(ev)
    return ReportDocument(
        kind="soc2", title="SOC 2 access review", period=period, generated_at=now, generator=generator,
        chain_seq=(anchor := audit.chain_anchor()).seq, chain_head=anchor.head, accounts=[a.name for a in accounts], figures=figures,
        sign_offs=review_evidence.sign_offs(ev.reviews()),
        sections=[
            sections.summary_section(ev, figures),
            sections.usage_coverage_section(ev),
            sections.access_inventory_section(ev),
            sections.access_section(ev),
            sections.access_changes_section(ev),
            offboarding_evidence.offboarding_section(ev),
            sections.rotation_section(ev),
            sections.violations_section(ev),
            break_glass.section(ev),
            sections.reviews_section(ev),
            sections.own_access_changes_section(ev),
            verdicts.privileged_access_section(ev),
            verdicts.signins_section(ev),
            sections.quarter_section(ev),
            sections.recommendations_section(ev, figures),
            verdicts.control_section(
                "controls", "Control mapping: SOC 2 Trust Services Criteria",
                "Each criterion with how it is met and the evidence measured for this period.", SOC2_CONTROLS, ev),
        ],
    )
