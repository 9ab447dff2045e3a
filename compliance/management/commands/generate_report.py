"""`manage.py generate_report KIND --period 2026Q1 --format pdf|xlsx|zip --out PATH`: the same domain
function the Celery task runs, in-process; the artifact is stored (with SHA-256) and copied to PATH.
`zip` is the evidence bundle: PDF, workbook, one CSV per table and manifest.json from one data build."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from compliance.reports.generate import ReportError, generate_now
from compliance.reports.models import ReportArtifact, ReportFormat, ReportKind
from compliance.reviews.periods import PeriodError, parse_period


class Command(BaseCommand):
    help = "Generate a SOC 2, ISO 27001 or hygiene report for a period as PDF, Excel or an evidence bundle (zip)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=ReportKind.values)
        parser.add_argument("--period", required=True, help="2026Q1 (quarter) or 2026-03 (month)")
        parser.add_argument("--format", required=True, choices=ReportFormat.values, dest="fmt")
        parser.add_argument("--out", type=Path, help="Also copy the file here.")
        parser.add_argument("--account", help="Only this account (default: all accounts).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            period = parse_period(options["period"])
            artifact = generate_now(kind=options["kind"], period=period, fmt=options["fmt"], out=options["out"],
                                    parameters={"account": options["account"]} if options["account"] else None)
        except (PeriodError, ReportError) as error:
            raise CommandError(str(error)) from error
        if artifact.status != ReportArtifact.Status.DONE:
            raise CommandError(f"Report failed: {artifact.error}")
        self.stdout.write(f"{artifact} -> {options['out'] or artifact.file_path}\nsha256 {artifact.sha256}  {artifact.size} bytes")
