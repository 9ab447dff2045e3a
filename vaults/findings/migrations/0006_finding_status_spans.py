"""Findings' status history (FindingStatusSpan), backfilled from what the finding rows still say.

The rows were rewritten in place until now, so the backfill is best effort, per finding:
1. Open from `first_seen` (with today's severity: earlier severities are not known).
2. Accepted from `accepted_at` when the finding is accepted now, or was and is resolved now with
   `accepted_at` before `resolved_at` (resolving does not clear the acceptance fields).
   An open finding whose acceptance expired (`accepted_at` and a past `accepted_until` kept) was
   accepted from `accepted_at` until the start of the day after `accepted_until` (UTC), the first
   moment the engine could reopen it. One reopened by a person (accepted_until cleared) is shown
   open throughout: when it was reopened is not recorded on the row.
3. Resolved from `resolved_at` when resolved now. A finding resolved and later seen again lost its
   `resolved_at`: that earlier resolution cannot be recovered and it is shown open throughout.
Spans are written from the next engine run or acceptance on, exactly.
"""

import datetime

import django.db.models.deletion
from django.db import migrations, models

BATCH = 2000


def _spans(f, span_model):
    """The spans of one finding, oldest first: (status, valid_from)."""
    points = [("open", f.first_seen)]
    if f.accepted_at is not None and f.accepted_at >= f.first_seen:
        resolved_after = f.status == "resolved" and f.resolved_at is not None and f.accepted_at < f.resolved_at
        if f.status == "accepted" or resolved_after:
            points.append(("accepted", f.accepted_at))
        elif f.status == "open" and f.accepted_until is not None:
            expired = datetime.datetime.combine(f.accepted_until + datetime.timedelta(days=1), datetime.time(),
                                                tzinfo=datetime.UTC)
            if expired > f.accepted_at:
                points += [("accepted", f.accepted_at), ("open", expired)]
    if f.status == "resolved" and f.resolved_at is not None:
        points = [p for p in points if p[1] < f.resolved_at] + [("resolved", f.resolved_at)]
    rotation = f.kind in ("overdue_rotation", "rotation_due_soon")
    return [
        span_model(finding_id=f.pk, account_id=f.account_id, kind=f.kind, status=status, severity=f.severity,
                   details=f.details if rotation else None, valid_from=start,
                   valid_to=points[n + 1][1] if n + 1 < len(points) else None)
        for n, (status, start) in enumerate(points)
    ]


def backfill(apps, schema_editor):
    finding_model = apps.get_model("findings", "Finding")
    span_model = apps.get_model("findings", "FindingStatusSpan")
    rows = finding_model.objects.order_by("pk").only(
        "pk", "account_id", "kind", "status", "severity", "details", "first_seen", "resolved_at", "accepted_at",
        "accepted_until")
    pending = []
    for f in rows.iterator(chunk_size=BATCH):
        pending.extend(_spans(f, span_model))
        if len(pending) >= BATCH:
            span_model.objects.bulk_create(pending)
            pending = []
    span_model.objects.bulk_create(pending)


class Migration(migrations.Migration):

    dependencies = [
        ('findings', '0005_h6_reused_secret_kind'),
        ('vaults', '0007_history_spans'),
    ]

    operations = [
        migrations.CreateModel(
            name='FindingStatusSpan',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('duplicate', 'Duplicate secret'), ('reused_secret', 'Reused secret'), ('weak', 'Weak secret'), ('overdue_rotation', 'Overdue rotation'), ('rotation_due_soon', 'Rotation due soon'), ('orphaned', 'Orphaned item'), ('over_permissioned', 'Over-permissioned user'), ('unclear_name', 'Unclear name'), ('missing_metadata', 'Missing metadata'), ('expiring', 'Expiring or expired'), ('shared_across_environments', 'Shared across environments')], max_length=40)),
                ('status', models.CharField(choices=[('open', 'Open'), ('accepted', 'Accepted risk'), ('resolved', 'Resolved')], max_length=10)),
                ('severity', models.CharField(choices=[('high', 'High'), ('medium', 'Medium'), ('low', 'Low')], max_length=10)),
                ('details', models.JSONField(blank=True, null=True)),
                ('valid_from', models.DateTimeField()),
                ('valid_to', models.DateTimeField(blank=True, null=True)),
                ('account', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='vaults.account')),
                ('finding', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='status_spans', to='findings.finding')),
            ],
            options={
                'indexes': [models.Index(fields=['account', 'valid_from', 'valid_to'], name='finding_span_at'), models.Index(fields=['finding', 'valid_to'], name='finding_span_finding')],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
