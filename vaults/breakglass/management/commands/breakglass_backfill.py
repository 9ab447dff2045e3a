"""`manage.py breakglass_backfill [--account NAME]`: turn the stored uses of vaults classified
emergency into break-glass events (the sync does the same after each import; run this after
classifying a vault emergency without waiting for the next sync)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vaults.breakglass.track import track
from vaults.models import Account


class Command(BaseCommand):
    help = "Record break-glass events from the stored uses of emergency vaults."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", help="Account name (default: every account).")

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = Account.objects.all()
        if options["account"]:
            accounts = accounts.filter(name=options["account"])
            if not accounts.exists():
                raise CommandError(f"No account named {options['account']!r}.")
        for account in accounts:
            created = track(account=account)
            self.stdout.write(f"{account.name}: {created} new break-glass event{'s' if created != 1 else ''}")
