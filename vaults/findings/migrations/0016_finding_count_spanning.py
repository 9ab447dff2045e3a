"""Vault-less findings counted in the vaults they name (vaults/findings/counts.py, `spanning`).

A vault's score counted a group spanning vaults, or a person's over-permissioned access, in each
vault the finding names; the vault list counted only findings with the vault as their own, so a
vault could say "0 open findings" beside a score that lost points to three. The rows are filled
here from the stored findings, as the next findings run would fill them.
"""

from collections import defaultdict
from typing import Any

from django.db import migrations, models

COUNTED = ("open", "accepted")


def count_spanning_findings(apps: Any, schema_editor: Any) -> None:
    Finding = apps.get_model("findings", "Finding")
    FindingCount = apps.get_model("findings", "FindingCount")
    Vault = apps.get_model("vaults", "Vault")
    vaults = set(Vault.objects.values_list("pk", flat=True))  # ids in stored JSON are not foreign keys
    spanning: dict[tuple[int, int, str, str, str], int] = defaultdict(int)
    vault_less = Finding.objects.filter(status__in=COUNTED, vault__isnull=True).order_by()
    for account_id, kind, severity, status, details in vault_less.values_list(
        "account_id", "kind", "severity", "status", "details"
    ).iterator():
        listed = details.get("vault_ids") if isinstance(details, dict) else None
        named = {v for v in listed if isinstance(v, int) and not isinstance(v, bool)} if isinstance(listed, list) else set()
        for vault_id in named & vaults:
            spanning[(account_id, vault_id, kind, severity, status)] += 1
    FindingCount.objects.bulk_create(
        [FindingCount(account_id=a, vault_id=v, kind=k, severity=sev, status=st, n=n, spanning=True)
         for (a, v, k, sev, st), n in spanning.items()],
        batch_size=1000,
    )  # fmt: skip


def forget_spanning_findings(apps: Any, schema_editor: Any) -> None:
    """Before the column goes: left behind, these rows would read as the vaults' own and count
    each vault-less finding again per vault in the account totals."""
    apps.get_model("findings", "FindingCount").objects.filter(spanning=True).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("findings", "0015_change_log_planned_per_call"),
    ]

    operations = [
        migrations.AddField(
            model_name="findingcount",
            name="spanning",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(count_spanning_findings, forget_spanning_findings),
    ]
