"""`manage.py offboarding_plan EMAIL [--account NAME] --format json`: a leaver's rotation and removal plan."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vaults.models import Account
from vaults.offboarding.summary import PersonNotFound, find_person, plan_document


class Command(BaseCommand):
    help = "Print a leaver's plan: secrets to rotate (vault, reason, last use) and access to remove."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--account", help="Account name (needed when the e-mail is in several accounts).")
        parser.add_argument("--format", choices=["json"], default="json")

    def handle(self, *args: Any, **options: Any) -> None:
        account = None
        if options["account"]:
            account = Account.objects.filter(name=options["account"]).first()
            if account is None:
                raise CommandError(f"No account named {options['account']!r}.")
        try:
            person = find_person(options["email"], account=account)
        except PersonNotFound as error:
            raise CommandError(str(error)) from error
        self.stdout.write(json.dumps(plan_document(person), indent=2, ensure_ascii=False))
