"""`manage.py findings [--account NAME] [--kind K] --format json`: open findings as a JSON list."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vaults.findings.export import open_findings_as_dicts
from vaults.findings.models import Finding
from vaults.models import Account


class Command(BaseCommand):
    help = "Print open findings (kind, severity, vault, item id and title, user, explanation)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", help="Account name (default: every account).")
        parser.add_argument("--kind", choices=Finding.Kind.values)
        parser.add_argument("--format", choices=["json"], default="json")

    def handle(self, *args: Any, **options: Any) -> None:
        account = None
        if options["account"]:
            account = Account.objects.filter(name=options["account"]).first()
            if account is None:
                raise CommandError(f"No account named {options['account']!r}.")
        rows = open_findings_as_dicts(account=account, kind=options["kind"] or "")
        self.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False))
