from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from compliance import audit
from vaults import sync
from vaults.models import Account, SyncRun


class Command(BaseCommand):
    help = "Sync one or every account now, in this process, and print a summary."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", help="account name (default: every account)")
        parser.add_argument("--scope", choices=[s.value for s in SyncRun.Scope], default=SyncRun.Scope.FULL)
        parser.add_argument("--no-findings", action="store_true", help="skip recomputing findings")

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = Account.objects.all()
        if options["account"]:
            accounts = accounts.filter(name=options["account"])
            if not accounts.exists():
                raise CommandError(f"No account named {options['account']!r}; add it with `manage.py add_account`.")
        failed = False
        for account in accounts:
            run, _ = sync.start_sync(account=account, scope=options["scope"])
            audit.record("sync.started", actor_label="manage.py", target=account, details={"sync_run": run.pk})
            run = sync.run_sync(sync_run_id=run.pk)
            self.stdout.write(describe(run))
            if run.status == SyncRun.Status.SUCCEEDED and not options["no_findings"]:
                from vaults.findings.engine import compute_findings

                compute_findings(account=account, sync_run=run)
            failed |= run.status == SyncRun.Status.FAILED
        if failed:
            raise CommandError("At least one sync failed; see the messages above.")


def describe(run: SyncRun) -> str:
    counts = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in sorted(run.counts.items()))
    line = f"{run.account.name}: {run.get_status_display()} — {run.op_calls} op calls, {run.op_requests} requests; {counts}"
    if run.error:
        line += f"\n  {run.error}"
    return line
