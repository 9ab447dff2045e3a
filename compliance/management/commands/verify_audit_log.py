from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.template.defaultfilters import pluralize

from compliance.audit import verify_chain
from compliance.audit_anchors import AnchorRefused, verify_anchors, write_anchor
from compliance.models import AuditAnchor


class Command(BaseCommand):
    help = ("Verify the audit log's keyed hash chain and every anchor of it (report artifacts, daily anchors, "
            "the external anchor file); exits non-zero on any edited, deleted, reordered or cut-off row.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--write-anchor", action="store_true",
                            help="After a clean verification, record the chain's newest entry as an anchor "
                                 "(database row and AUDIT_ANCHOR_FILE).")

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        anchors = verify_anchors()
        for warning in anchors.warnings:
            self.stderr.write(f"warning: {warning}")
        problems = report.problems + anchors.problems
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"Audit log chain is BROKEN ({len(problems)} problem{pluralize(len(problems))} in {report.entries} "
                               f"entr{pluralize(report.entries, 'y,ies')}).")
        self.stdout.write(f"Audit log intact: {report.entries} entr{pluralize(report.entries, 'y,ies')}, head {report.head}")
        self.stdout.write(f"Anchors matching the chain: {anchors.checked}" + (f" ({len(anchors.warnings)} warning{pluralize(len(anchors.warnings))} above)" if anchors.warnings else ""))
        if options["write_anchor"]:
            try:
                anchor = write_anchor(source=AuditAnchor.Source.VERIFY)
            except AnchorRefused as error:
                raise CommandError(str(error)) from error
            if anchor is not None:
                self.stdout.write(f"Anchor written: entry #{anchor.seq}, hash {anchor.entry_hash}")
