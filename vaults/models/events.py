"""Events API records. Stored as metadata only; the Events API itself carries no secret values."""

from __future__ import annotations

from django.db import models


class ItemUsage(models.Model):
    account = models.ForeignKey("vaults.Account", on_delete=models.CASCADE, related_name="item_usages")
    uuid = models.CharField(max_length=64)
    timestamp = models.DateTimeField(db_index=True)
    user_op_id = models.CharField(max_length=64)
    user_email = models.CharField(max_length=500, blank=True)
    user_name = models.CharField(max_length=500, blank=True)
    item_op_id = models.CharField(max_length=64)
    vault_op_id = models.CharField(max_length=64)
    action = models.CharField(max_length=60, blank=True)
    client_ip = models.CharField(max_length=64, blank=True)
    client_app = models.CharField(max_length=200, blank=True)
    # A code ("CA") or a full name ("United Kingdom of Great Britain ..."): the API prints both.
    country = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "uuid"], name="itemusage_unique")]
        # Chosen by measurement (bench/bench_usage.py, 5M events): every usage question is "this
        # item / person / vault over a time range", newest first, so each id leads an index with
        # the timestamp after it (replacing the single-column id indexes it makes redundant);
        # (account, timestamp) answers coverage's first event and an account's newest events.
        indexes = [
            models.Index(fields=["item_op_id", "timestamp"], name="itemusage_item_time"),
            models.Index(fields=["user_op_id", "timestamp"], name="itemusage_user_time"),
            models.Index(fields=["vault_op_id", "timestamp"], name="itemusage_vault_time"),
            models.Index(fields=["account", "timestamp"], name="itemusage_account_time"),
        ]


class SignInAttempt(models.Model):
    account = models.ForeignKey("vaults.Account", on_delete=models.CASCADE, related_name="signin_attempts")
    uuid = models.CharField(max_length=64)
    timestamp = models.DateTimeField(db_index=True)
    category = models.CharField(max_length=60)  # success, credentials_failed, ...
    attempt_type = models.CharField(max_length=60, blank=True)
    user_op_id = models.CharField(max_length=64, blank=True)
    user_email = models.CharField(max_length=500, blank=True)
    user_name = models.CharField(max_length=500, blank=True)
    client_ip = models.CharField(max_length=64, blank=True)
    # `location.country`, or the top-level `country` of the older shape; codes and full names.
    country = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "uuid"], name="signin_unique")]


class AuditEvent(models.Model):
    account = models.ForeignKey("vaults.Account", on_delete=models.CASCADE, related_name="op_audit_events")
    uuid = models.CharField(max_length=64)
    timestamp = models.DateTimeField(db_index=True)
    actor_op_id = models.CharField(max_length=64, blank=True)
    actor_name = models.CharField(max_length=500, blank=True)  # actor_details: who, readable after they leave
    actor_email = models.CharField(max_length=500, blank=True)
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=60, blank=True)
    object_op_id = models.CharField(max_length=64, blank=True)
    object_name = models.CharField(max_length=500, blank=True)  # object_details
    object_email = models.CharField(max_length=500, blank=True)
    session_login_time = models.DateTimeField(null=True, blank=True)  # session.login_time
    aux_info = models.TextField(blank=True)
    client_ip = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "uuid"], name="opaudit_unique")]


class ItemUsageDaily(models.Model):
    """Item usage as counts per day (UTC), item, vault, person and action, for every day with usage.

    Kept by database triggers on ItemUsage (migration 0010): each insert adds its rows' counts in
    the same statement, so the counts always equal the raw events. Deleting raw events (retention,
    vaults/usage_retention.py) leaves the counts: long audit periods keep their evidence."""

    account = models.ForeignKey("vaults.Account", on_delete=models.CASCADE, related_name="item_usage_days")
    day = models.DateField()
    item_op_id = models.CharField(max_length=64)
    vault_op_id = models.CharField(max_length=64)
    user_op_id = models.CharField(max_length=64)
    action = models.CharField(max_length=60, blank=True)
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "day", "item_op_id", "vault_op_id", "user_op_id", "action"], name="itemusagedaily_unique"
            )
        ]
        # The usage audit's counts (vaults/usage_audit.py): a range of days, alone or for one item,
        # person or vault. The unique constraint already leads with (account, day).
        indexes = [
            models.Index(fields=["day"], name="itemusagedaily_day"),
            models.Index(fields=["item_op_id", "day"], name="itemusagedaily_item_day"),
            models.Index(fields=["user_op_id", "day"], name="itemusagedaily_user_day"),
            models.Index(fields=["vault_op_id", "day"], name="itemusagedaily_vault_day"),
        ]
