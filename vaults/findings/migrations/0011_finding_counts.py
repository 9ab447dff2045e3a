"""Finding counts kept beside the findings (issue #17 item 2, vaults/findings/counts.py).

The table is filled here from the stored findings, as the next findings run would fill it, so
the pages read right counts from the moment the new code serves them, not only after a run.
"""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Count

COUNTED = ("open", "accepted")


def count_present_findings(apps: Any, schema_editor: Any) -> None:
    Finding = apps.get_model("findings", "Finding")
    FindingCount = apps.get_model("findings", "FindingCount")
    groups = (
        Finding.objects.filter(status__in=COUNTED).order_by()
        .values_list("account_id", "vault_id", "kind", "severity", "status").annotate(n=Count("*"))
    )  # fmt: skip
    FindingCount.objects.bulk_create(
        [FindingCount(account_id=a, vault_id=v, kind=k, severity=sev, status=st, n=n) for a, v, k, sev, st, n in groups],
        batch_size=1000,
    )


class Migration(migrations.Migration):

    dependencies = [
        ('findings', '0010_search_document_statistics'),
        ('vaults', '0012_usage_rollups'),
    ]

    operations = [
        migrations.CreateModel(
            name='FindingCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('duplicate', 'Duplicate secret'), ('reused_secret', 'Reused secret'), ('weak', 'Weak secret'), ('overdue_rotation', 'Overdue rotation'), ('rotation_due_soon', 'Rotation due soon'), ('orphaned', 'Orphaned item'), ('over_permissioned', 'Over-permissioned user'), ('unclear_name', 'Unclear name'), ('missing_metadata', 'Missing metadata'), ('expiring', 'Expiring or expired'), ('shared_across_environments', 'Shared across environments'), ('access_past_end_date', 'Access past its end date'), ('emergency_reason_missing', 'Break-glass use without a reason'), ('emergency_rotation_late', 'Break-glass secret not rotated in time')], max_length=40)),
                ('severity', models.CharField(choices=[('high', 'High'), ('medium', 'Medium'), ('low', 'Low')], max_length=10)),
                ('status', models.CharField(choices=[('open', 'Open'), ('accepted', 'Accepted risk'), ('resolved', 'Resolved')], max_length=10)),
                ('n', models.IntegerField()),
                ('account', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='vaults.account')),
                ('vault', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='vaults.vault')),
            ],
            options={
                'indexes': [models.Index(fields=['account', 'status'], name='finding_count_account'), models.Index(fields=['vault', 'status'], name='finding_count_vault')],
            },
        ),
        migrations.RunPython(count_present_findings, migrations.RunPython.noop),
    ]
