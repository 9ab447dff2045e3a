"""Audit entries become keyed (HMAC-SHA256 under AUDIT_KEY). Rows already written keep their plain
SHA-256 hash, marked "sha256"; nothing is rehashed. If there are such rows, one keyed entry is
appended that chains onto them: the verifier accepts plain rows only when a keyed row follows,
so a chain recomputed in plain SHA-256 by someone without the key never passes for an old one."""

from django.db import migrations, models
from django.utils import timezone

SEAL_ACTION = "audit_log.keyed_hashing_started"


def seal_plain_entries(apps, schema_editor):  # type: ignore[no-untyped-def]
    from compliance.audit import _ADVISORY_LOCK_ID, compute_hash

    entry_model = apps.get_model("compliance", "AuditLogEntry")
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_ID])
    last = entry_model.objects.order_by("-seq").first()
    if last is None:
        return
    seal = entry_model(
        seq=last.seq + 1, created_at=timezone.now(), actor_label="system", action=SEAL_ACTION,
        details={"plain_sha256_entries": entry_model.objects.count(), "plain_sha256_head": last.entry_hash},
        prev_hash=last.entry_hash, hash_scheme="hmac-sha256",
    )
    seal.entry_hash = compute_hash(seal)
    seal.save()


class Migration(migrations.Migration):
    dependencies = [("compliance", "0002_append_only_trigger")]

    operations = [
        # Existing rows get "sha256"; new rows are keyed (the model's default, and what record() writes).
        migrations.AddField(
            model_name="auditlogentry",
            name="hash_scheme",
            field=models.CharField(choices=[("sha256", "SHA-256 (before the audit key)"), ("hmac-sha256", "HMAC-SHA256 under AUDIT_KEY")], default="sha256", max_length=16),
        ),
        migrations.AlterField(
            model_name="auditlogentry",
            name="hash_scheme",
            field=models.CharField(choices=[("sha256", "SHA-256 (before the audit key)"), ("hmac-sha256", "HMAC-SHA256 under AUDIT_KEY")], default="hmac-sha256", max_length=16),
        ),
        migrations.RunPython(seal_plain_entries, migrations.RunPython.noop),
    ]
