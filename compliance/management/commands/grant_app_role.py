from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from compliance.database_role import RoleRefused, grant_app_role


class Command(BaseCommand):
    help = ("Grant the PostgreSQL role the app runs as everything it needs, and only SELECT and INSERT on the "
            "audit log. Run as the tables' owner after every migrate; idempotent.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role", help="the app's role, e.g. openclaw_app")
        parser.add_argument("--password-env", metavar="VAR",
                            help="create the role (or reset its password) with the password in this environment "
                                 "variable; never on the command line")

    def handle(self, *args: Any, **options: Any) -> None:
        password = None
        if options["password_env"]:
            password = os.environ.get(options["password_env"], "")
            if not password:
                raise CommandError(f"{options['password_env']} is not set or empty.")
        try:
            statements = grant_app_role(role=options["role"], password=password)
        except RoleRefused as error:
            raise CommandError(str(error)) from error
        for statement in statements:
            self.stdout.write(statement)
        self.stdout.write(f"Role {options['role']} may read and write the app's tables; the audit log only SELECT and INSERT.")
