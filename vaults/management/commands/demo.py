"""Seed the demo organisation: one login per role, the fake 1Password account, a full sync and
findings, then the story's break-glass uses, leavers, alert rules (evaluated once) and a ticket
destination. Idempotent: running it again re-syncs and keeps everything else."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from compliance import audit
from compliance.alerts.evaluate import EvaluationSummary
from compliance.alerts.models import AlertDelivery
from openclaw_web.roles import Role
from vaults import sync
from vaults.management.commands.sync import describe
from vaults.models import Account, SyncRun, Vault

DEMO_PASSWORD = "openclaw-demo"  # noqa: S105 — printed on screen; the demo runs on loopback only
DEMO_LOGINS: list[tuple[str, str, Role]] = [
    ("admin", "Ada Admin", Role.ADMIN),
    ("lead", "Tom Lead", Role.TEAM_LEAD),
    ("approver", "April Approver", Role.APPROVER),
    ("approver2", "Bob Approver", Role.APPROVER),
    ("compliance", "Carol Compliance", Role.COMPLIANCE_OFFICER),
    ("auditor", "Aude Auditor", Role.AUDITOR),
    ("viewer", "Vic Viewer", Role.VIEWER),
]
DEMO_ACCOUNT = "Acme Demo"
# The demo organisation's domain (vaults/fake_op/demo.py): .example, reserved, so no mail can reach anyone.
DEMO_ALERT_RECIPIENTS = ("security@acme-demo.example",)


class Command(BaseCommand):
    help = "Seed the demo organisation (logins, fake account, sync, findings) and print the logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--events-url", default=os.environ.get("EVENTS_API_URL", ""))

    def handle(self, *args: Any, **options: Any) -> None:
        if not os.environ.get("FAKE_OP_ACCOUNT"):
            raise CommandError("FAKE_OP_ACCOUNT is not set: run `make demo`, which prepares the fake account.")
        with transaction.atomic():
            users = {username: self._login(username, full_name, role) for username, full_name, role in DEMO_LOGINS}
            account, _ = Account.objects.update_or_create(
                name=DEMO_ACCOUNT,
                defaults={"token_env": "OP_SERVICE_ACCOUNT_TOKEN", "events_url": options["events_url"],
                          "events_token_env": "OP_EVENTS_TOKEN" if options["events_url"] else ""},
            )
        run, _ = sync.start_sync(account=account, scope=SyncRun.Scope.FULL, triggered_by=users["admin"])
        audit.record("sync.started", actor=users["admin"], target=account, details={"sync_run": run.pk, "via": "demo"})
        run = sync.run_sync(sync_run_id=run.pk)
        self.stdout.write(describe(run))
        if run.status != SyncRun.Status.SUCCEEDED:
            raise CommandError("The demo sync did not succeed.")
        # The team lead owns the production vaults, so reviews and cleanup have someone to route to.
        Vault.objects.filter(account=account, classification=Vault.Classification.PRODUCTION, owner__isnull=True).update(owner=users["lead"])
        from vaults.access_expiry.demo_end_dates import seed_demo_end_dates

        seed_demo_end_dates(account=account, sponsor=users["lead"])
        from vaults.breakglass.demo import seed_demo_break_glass

        seed_demo_break_glass(account=account, admin=users["admin"], lead=users["lead"])
        from vaults.findings.engine import compute_findings

        compute_findings(account=account, sync_run=run)
        from vaults.offboarding.demo_cases import open_demo_cases

        open_demo_cases(account=account, opened_by=users["admin"])
        from compliance.alerts.demo import seed_demo_alerts
        from compliance.tickets.demo import seed_demo_destination

        seed_demo_destination(admin=users["admin"])
        alerts = seed_demo_alerts(account=account, admin=users["admin"], recipients=DEMO_ALERT_RECIPIENTS)
        self.stdout.write(describe_alerts(alerts))
        self.stdout.write(self.style.SUCCESS(f"\nDemo logins (password for all: {DEMO_PASSWORD}):"))
        for username, full_name, role in DEMO_LOGINS:
            self.stdout.write(f"  {username:<11} {role.value:<19} {full_name}")

    def _login(self, username: str, full_name: str, role: Role) -> User:
        first, last = full_name.split(" ", 1)
        user, created = User.objects.get_or_create(username=username, defaults={"first_name": first, "last_name": last})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        user.groups.add(Group.objects.get(name=role.value))
        return user


def describe_alerts(summary: EvaluationSummary) -> str:
    """What the seeded rules did, read from the delivery rows: how many were sent, failed or wait."""
    outcomes = Counter(AlertDelivery.objects.filter(pk__in=summary.deliveries).values_list("status", flat=True))
    sent = ", ".join(f"{n} {status}" for status, n in sorted(outcomes.items())) or "none"
    to_files = settings.EMAIL_BACKEND.endswith("filebased.EmailBackend")
    where = f" (mail is written to {settings.EMAIL_FILE_PATH})" if to_files else ""
    raised = f"{summary.raised} alert{'s' if summary.raised != 1 else ''} raised"
    return f"Alert rules evaluated: {raised}; deliveries: {sent}{where}."
