from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from compliance import audit
from vaults.models import Account


class Command(BaseCommand):
    help = "Register a 1Password account to sync. Tokens stay in the worker's environment, never in the database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--token-env", default="OP_SERVICE_ACCOUNT_TOKEN", help="environment variable holding the service-account token")
        parser.add_argument("--privileged-token-env", default="", help="optional second identity for actions a service account cannot run")
        parser.add_argument("--events-url", default="", help="1Password Events API base URL")
        parser.add_argument("--events-token-env", default="", help="environment variable holding the Events API bearer token")

    def handle(self, *args: Any, **options: Any) -> None:
        account, created = Account.objects.update_or_create(
            name=options["name"],
            defaults={
                "token_env": options["token_env"],
                "privileged_token_env": options["privileged_token_env"],
                "events_url": options["events_url"],
                "events_token_env": options["events_token_env"],
            },
        )
        audit.record("account.added" if created else "account.updated", actor_label="manage.py", target=account,
                     details={"token_env": account.token_env, "events_url": account.events_url})
        self.stdout.write(f"{'Added' if created else 'Updated'} account {account.name!r} (token from ${account.token_env}).")
