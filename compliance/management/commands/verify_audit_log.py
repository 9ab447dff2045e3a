from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from compliance.audit import verify_chain


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; exits non-zero on any edited, deleted or reordered row."

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(problem)
            raise CommandError(f"Audit log chain is BROKEN ({len(report.problems)} problem(s) in {report.entries} entries).")
        self.stdout.write(f"Audit log intact: {report.entries} entries, head {report.head}")
