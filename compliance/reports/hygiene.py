"""The vault hygiene report: health score, findings by kind and vault, cleanup done in the period."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import OuterRef, Subquery
from django.utils.safestring import SafeString

from compliance import audit
from compliance.reports.document import Cell, Column, Kpi, ReportDocument, Section, table
from compliance.reports.evidence import Evidence, by_vault_kind
from compliance.reports.sections import KIND_LABELS, count_kpi, known, lazy_table, usage_coverage_section
from compliance.reviews.periods import Period
from openclaw_web.text import plural
from vaults import charts
from vaults.findings.health import band
from vaults.findings.models import Finding, HealthSnapshot
from vaults.models import Account

# Vaults listed by score in the PDF: the worst ones matter; the workbook has them all.
WORST_VAULTS = 25


def _health_section(ev: Evidence) -> Section:
    rows: list[tuple[Cell, ...]] = []
    for account, snap in ev.health:
        rows.append((account.name, snap.score if snap else None, band(snap.score) if snap else "no snapshot",
                     snap.items if snap else None, snap.taken_at if snap else None))
    newest = HealthSnapshot.objects.filter(vault=OuterRef("vault"), taken_at__lte=ev.as_of).order_by("-taken_at", "-pk")
    snaps = list(HealthSnapshot.objects.filter(vault__account__in=ev.accounts, vault__removed_at__isnull=True,
                                               pk=Subquery(newest.values("pk")[:1])).select_related("vault"))
    vault_rows: list[tuple[Cell, ...]] = []
    snaps.sort(key=lambda s: (s.score, s.vault.name if s.vault else ""))
    for s in snaps:
        assert s.vault is not None
        vault_rows.append((s.vault.name, s.vault.get_classification_display(), s.score, band(s.score), s.items))
    score = ev.health_score
    bars = [charts.Bar(s.vault.name, float(s.score), color=charts.BAND_STROKES[charts.band_of(float(s.score))])
            for s in snaps[:12] if s.vault is not None]
    chart: SafeString | None = charts.horizontal_bars(bars, title="Vaults with the lowest health score", max_value=100,
                                                  width=640, label_chars=34) if bars else None
    return Section(
        key="health", title="Health score",
        intro=("0-100 per organisation and per vault from open findings weighted by severity and normalised by size "
               "(the dashboard's formula, docs/health-score.md). ≥ 90 healthy, 60-89 needs attention, < 60 at risk."),
        kpis=[Kpi("Health score", "n/a" if score is None else f"{score}/100", "latest snapshot",
                  "" if score is None else {"healthy": "good", "needs-attention": "warn"}.get(band(score), "bad"))],
        tables=[table("health_accounts", "Organisation", [Column("Account", width=24), Column("Score", "int", 8),
                      Column("Band", width=16), Column("Active items", "int", 12), Column("Snapshot", "datetime", 18)], rows),
                lazy_table("health_vaults", "Vaults by score (lowest first)", [Column("Vault", width=36),
                           Column("Classification", width=18), Column("Score", "int", 8), Column("Band", width=16),
                           Column("Active items", "int", 12)], vault_rows, total=len(vault_rows))],
        chart=chart,
    )


def _findings_section(ev: Evidence) -> Section:
    status = ev.kind_status
    kind_rows: list[tuple[Cell, ...]] = [
        (KIND_LABELS[k], *(known(status[k][c]) for c in ("open", "accepted", "new", "resolved")))
        for k in Finding.Kind.values
    ]
    pivot = by_vault_kind(ev)
    kinds = [k for k in Finding.Kind.values if any(k in counts for _, counts in pivot)]
    vault_rows: list[tuple[Cell, ...]] = [
        (vault, sum(counts.values()), *[counts.get(k, 0) for k in kinds]) for vault, counts in pivot
    ]
    bars = [charts.Bar(KIND_LABELS[k], float(n)) for k in Finding.Kind.values if (n := status[k]["open"])]
    chart = charts.horizontal_bars(bars, title="Open findings by kind", width=640, label_chars=30) if bars else None
    # values_list, not model instances: this table streams 100,000+ rows into the workbook.
    detail = (ev.findings().filter(ev.open_filter()).order_by("-severity_rank", "kind", "pk")
              .values_list("kind", "severity", "title", "vault__name", "first_seen", "explanation", "recommended_action"))
    total = ev.open_total

    def convert(r: tuple[Any, ...]) -> tuple[Cell, ...]:
        return (KIND_LABELS.get(r[0], r[0]), r[1], r[2], r[3] or "(several vaults)", r[4], r[5], r[6])

    return Section(
        key="findings", title="Findings by kind and vault",
        intro=((f"{plural(total, 'open finding', 'open findings')}. " if total is not None else
                "No evidence: findings were not computed by the end of this period, so none are counted. ")
               + "Findings spanning several vaults (shared credentials, people) are counted "
               "once per kind; the per-vault table counts findings attached to one vault."),
        kpis=[count_kpi("Open findings", total, "as on the dashboard", "warn")],
        chart=chart,
        tables=[
            table("findings_by_kind", "By kind", [Column("Kind", width=28), Column("Open", "int", 8),
                  Column("Accepted risk", "int", 14), Column("New in period", "int", 14),
                  Column("Resolved in period", "int", 18)], kind_rows),
            lazy_table("findings_by_vault", "By vault", [Column("Vault", width=36), Column("Open", "int", 8),
                       *[Column(KIND_LABELS[k], "int", 14) for k in kinds]], vault_rows, total=len(vault_rows)),
            lazy_table("findings", "Open findings", [Column("Kind", width=22), Column("Severity", width=12),
                       Column("Finding", width=60), Column("Vault", width=30), Column("First seen", "datetime", 18),
                       Column("Explanation", width=80), Column("Recommended action", width=50)],
                       # Unknown for the period, yet an account with a run still lists its rows: counted.
                       total=total if total is not None else detail.count(), query=detail, convert=convert),
        ],
    )


def _cleanup_section(ev: Evidence) -> Section:
    done = ev.cleanup_done()
    columns = [Column("Finished", "datetime", 18), Column("Action", width=24), Column("Vault", width=28),
               Column("Target", width=44), Column("Proposed by", width=16), Column("Approved by", width=20),
               Column("Status", width=30)]
    if done is None:
        return Section(key="cleanup", title="Cleanup done in the period", intro="Cleanup is not installed: none.")
    rows = list(done)
    return Section(
        key="cleanup", title="Cleanup done in the period",
        intro=("Actions executed through 1Password after approval by a second person (or done by an administrator "
               "and verified by the next sync)." if rows else "No cleanup action was completed in the period."),
        kpis=[Kpi("Actions completed", str(len(rows)), "two-person approved")],
        tables=[lazy_table("cleanup", "Completed cleanup actions", columns, rows, total=len(rows))],
    )


def build(*, period: Period, accounts: list[Account], generator: str, now: datetime.datetime) -> ReportDocument:
    ev = Evidence(period=period, accounts=accounts, now=now)
    figures = {
        "health_score": ev.health_score,
        "open_by_kind": dict(ev.open_by_kind),
        "open_findings": ev.open_total,
        "vaults": len(ev.vaults) if ev.has_access_history else None,
    }
    return ReportDocument(
        kind="hygiene", title="Vault hygiene report", period=period, generated_at=now, generator=generator,
        chain_seq=(anchor := audit.chain_anchor()).seq, chain_head=anchor.head, accounts=[a.name for a in accounts], figures=figures,
        sections=[_health_section(ev), _findings_section(ev), usage_coverage_section(ev), _cleanup_section(ev)],
    )
