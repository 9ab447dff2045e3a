"""`manage.py compute_findings [--account NAME]`: recompute findings and print a summary per kind."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vaults.findings.engine import compute_findings
from vaults.findings.models import Finding
from vaults.models import Account


class Command(BaseCommand):
    help = "Recompute findings and health scores for one account or all of them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", help="Account name (default: every account).")

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = Account.objects.all()
        if options["account"]:
            accounts = accounts.filter(name=options["account"])
            if not accounts.exists():
                raise CommandError(f"No account named {options['account']!r}.")
        for account in accounts:
            summary = compute_findings(account=account)
            self.stdout.write(f"{account.name}: health {summary.score}/100")
            for kind in Finding.Kind:
                present, open_ = summary.present.get(kind, 0), summary.open.get(kind, 0)
                self.stdout.write(f"  {kind.value:<28} {present:>6} present  {open_:>6} open")
            self.stdout.write(
                f"  new {summary.created}, changed {summary.updated}, reopened {summary.reopened}, "
                f"resolved {summary.resolved}, acceptances expired {summary.acceptances_expired}"
            )
