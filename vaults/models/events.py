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
            # An IP filter (an address or a prefix: LIKE '203.0.113.%') counts raw events, the
            # rollups keep no IP: pattern-ordered, a prefix is one index range (0012).
            models.Index(fields=["client_ip", "timestamp"], opclasses=["varchar_pattern_ops", "timestamptz_ops"],
                         name="itemusage_ip_time"),
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
            # Covering (0012): the per-item top N counts its candidates' edge days here, and an item
            # filter groups an item's rows; with the counted columns in the index that is an
            # index-only range per item (49k rows: 34,000 heap pages read before, bench_usage).
            models.Index(fields=["item_op_id", "day"], include=["account_id", "user_op_id", "action", "count"],
                         name="itemusagedaily_item_day_cov"),
            # Covering too (0013): one person's or one group's items, an index-only range per person
            # (the busiest person's 90 days, 140k rows: 930 ms by the day index, 430 ms so, load 12).
            models.Index(fields=["user_op_id", "day"], include=["account_id", "item_op_id", "action", "count"],
                         name="itemusagedaily_user_day_cov"),
            models.Index(fields=["vault_op_id", "day"], name="itemusagedaily_vault_day"),
        ]


# Coarser rollups of the same counts (migration 0012), kept by the same kind of triggers on
# ItemUsage and, like ItemUsageDaily, left alone by retention's deletes. At 5 million events the
# daily counts hold 99.4 % as many rows as the raw events (a day rarely repeats an item, person
# and action), so a count over a broad filter must read rows that drop a dimension or a day:
# per person (1,000 people) and per vault (100 vaults) a day is a few thousand rows, per item a
# month is one list sorted by count for an exact top-N (vaults/usage_rollups.py).


class ItemUsagePersonDay(models.Model):
    """Uses per day (UTC), person and action: the timeline and per-person counts of a person or group filter."""

    account = models.ForeignKey("vaults.Account", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    user_op_id = models.CharField(max_length=64)
    action = models.CharField(max_length=60, blank=True)
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "day", "user_op_id", "action"], name="usagepersonday_unique")]
        indexes = [
            models.Index(fields=["day"], name="usagepersonday_day"),
            models.Index(fields=["user_op_id", "day"], name="usagepersonday_user_day"),
        ]


class ItemUsagePersonMonth(models.Model):
    """Uses per month (its first day, UTC), person and action: per-person counts over whole months."""

    account = models.ForeignKey("vaults.Account", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    user_op_id = models.CharField(max_length=64)
    action = models.CharField(max_length=60, blank=True)
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "month", "user_op_id", "action"], name="usagepersonmonth_unique")]


class ItemUsageVaultDay(models.Model):
    """Uses per day (UTC), vault and action: the timeline of filters on no person and no single item."""

    account = models.ForeignKey("vaults.Account", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    vault_op_id = models.CharField(max_length=64)
    action = models.CharField(max_length=60, blank=True)
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "day", "vault_op_id", "action"], name="usagevaultday_unique")]
        indexes = [models.Index(fields=["day"], name="usagevaultday_day")]


class ItemUsageAccountDay(models.Model):
    """Uses per day (UTC) and action in an account: the timeline of filters on no vault, item or person
    (0013). A 13-month range is ~2,400 rows here against ~240,000 in ItemUsageVaultDay."""

    account = models.ForeignKey("vaults.Account", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    action = models.CharField(max_length=60, blank=True)
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "day", "action"], name="usageaccountday_unique")]
        indexes = [models.Index(fields=["day"], name="usageaccountday_day")]


# Tags longer than this are not rolled up (a longer key could exceed a B-tree entry and fail the
# usage import): a filter on one reads the daily counts (vaults/usage_rollups.py).
TAG_ROLLUP_MAX_LENGTH = 200


class ItemUsageTagMonth(models.Model):
    """Uses per month (its first day, UTC), item tag, person and action (migration 0014): per-person
    counts of a tag over whole months. Tags are the items' *current* tags, as the tag filter reads
    them: triggers move an item's counts when its tags change, it is created or deleted."""

    account = models.ForeignKey("vaults.Account", on_delete=models.CASCADE, related_name="+")
    tag = models.TextField()
    month = models.DateField()
    user_op_id = models.CharField(max_length=64)
    action = models.CharField(max_length=60, blank=True)
    count = models.PositiveIntegerField()

    class Meta:
        # Tag first: a filter on a tag alone (every account) is one index range.
        constraints = [models.UniqueConstraint(fields=["tag", "month", "account", "user_op_id", "action"], name="usagetagmonth_unique")]


class ItemUsageTagDay(models.Model):
    """Uses per day (UTC), item tag and action (migration 0014): the timeline of a tag filter, kept
    like ItemUsageTagMonth. A tag over 13 months is ~2,400 rows here, ~570,000 daily counts."""

    account = models.ForeignKey("vaults.Account", on_delete=models.CASCADE, related_name="+")
    tag = models.TextField()
    day = models.DateField()
    action = models.CharField(max_length=60, blank=True)
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tag", "day", "account", "action"], name="usagetagday_unique")]


class ItemUsageItemMonth(models.Model):
    """Uses per month (its first day, UTC), item and action: per-item counts over a range of months,
    read most-used first (the count index) for an exact top-N. No vault: an item is then one row
    per (month, action) list, which the top-N's bound relies on (vault filters read the daily counts)."""

    account = models.ForeignKey("vaults.Account", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    item_op_id = models.CharField(max_length=64)
    action = models.CharField(max_length=60, blank=True)
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "month", "item_op_id", "action"], name="usageitemmonth_unique")]
        indexes = [
            # Covering: a list is read most-used first and filtered on the item without heap visits.
            models.Index("account", "month", "action", models.F("count").desc(), include=["item_op_id"],
                         name="usageitemmonth_ranked"),
            models.Index(fields=["item_op_id", "month"], include=["account_id", "action", "count"], name="usageitemmonth_item_month"),
        ]
