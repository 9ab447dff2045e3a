"""Findings, the policy they are judged against, and health snapshots over time."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, fields
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Value
from django.db.models.functions import Coalesce, Lower, NullIf, Upper

DEFAULT_NAMING_PATTERN = r"^\S.* (Production|Staging|Development|Test|QA|Shared|Corporate) \S.*$"
DEFAULT_GENERIC_TITLES = [
    "Password", "API Key", "Token", "Database", "Login", "Secret", "Admin",
    "Credentials", "Test", "New Item", "Untitled", "Key", "Server",
]  # fmt: skip
DEFAULT_ROTATING_CATEGORIES = ["API_CREDENTIAL", "DATABASE", "SERVER", "SSH_KEY"]
DEFAULT_SERVICE_ACCOUNT_TAGS = ["service-account"]
# Categories whose secret `op item edit --generate-password` may rotate (when
# allow_generate_password is on): LOGIN and PASSWORD items have the built-in password field the
# flag writes, and 1Password keeps the previous value in the item's password history, so the
# service can still be changed with the old one. The other rotating categories need a person:
# an API credential is issued by its provider, a database or server password must change on the
# server in the same step, an SSH key is a key pair, not a password (docs/findings-rules.md).
DEFAULT_GENERATE_PASSWORD_CATEGORIES = ["LOGIN", "PASSWORD"]
# `op` password recipe: character sets (letters, digits, symbols) and a length of 12-128.
DEFAULT_PASSWORD_RECIPE = "letters,digits,symbols,32"  # noqa: S105 — a recipe, not a password


@dataclass(frozen=True)
class EffectivePolicy:
    """The settings one vault is judged by: its override row merged over the global row."""

    min_length: int = 12
    rotation_days_production: int = 90
    rotation_days_nonprod: int = 365
    due_soon_days: int = 30
    orphan_days: int = 180
    unused_access_days: int = 90
    expiring_days: int = 30
    naming_pattern: str = DEFAULT_NAMING_PATTERN
    generic_titles: tuple[str, ...] = tuple(DEFAULT_GENERIC_TITLES)
    rotating_categories: tuple[str, ...] = tuple(DEFAULT_ROTATING_CATEGORIES)
    service_account_tags: tuple[str, ...] = tuple(DEFAULT_SERVICE_ACCOUNT_TAGS)
    allow_generate_password: bool = False
    generate_password_categories: tuple[str, ...] = tuple(DEFAULT_GENERATE_PASSWORD_CATEGORIES)
    password_recipe: str = DEFAULT_PASSWORD_RECIPE
    risky_actions_need_second_approver: bool = True
    approval_ttl_hours: int = 72
    require_2fa_for_approvers: bool = False


POLICY_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(EffectivePolicy))
_DEFAULTS = EffectivePolicy()


class Policy(models.Model):
    """The global policy (vault=None) or one vault's override of it. On an override row a null
    field means "as the global policy says"; `for_vault` does the merge."""

    vault = models.OneToOneField(
        "vaults.Vault", null=True, blank=True, on_delete=models.CASCADE, related_name="policy_override"
    )
    # Every field is null by default: on an override row null means "inherit". The global row
    # is created by `global_policy()` with the documented defaults written out.
    min_length = models.PositiveIntegerField(null=True, blank=True)
    rotation_days_production = models.PositiveIntegerField(null=True, blank=True)
    rotation_days_nonprod = models.PositiveIntegerField(null=True, blank=True)
    due_soon_days = models.PositiveIntegerField(null=True, blank=True)
    orphan_days = models.PositiveIntegerField(null=True, blank=True)
    unused_access_days = models.PositiveIntegerField(null=True, blank=True)
    expiring_days = models.PositiveIntegerField(null=True, blank=True)
    naming_pattern = models.CharField(max_length=500, null=True, blank=True)
    generic_titles = models.JSONField(null=True, blank=True)
    rotating_categories = models.JSONField(null=True, blank=True)
    service_account_tags = models.JSONField(null=True, blank=True)
    allow_generate_password = models.BooleanField(null=True, blank=True)
    generate_password_categories = models.JSONField(null=True, blank=True)
    password_recipe = models.CharField(max_length=60, null=True, blank=True)
    risky_actions_need_second_approver = models.BooleanField(null=True, blank=True)
    approval_ttl_hours = models.PositiveIntegerField(null=True, blank=True)
    require_2fa_for_approvers = models.BooleanField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "policies"
        constraints = [
            models.UniqueConstraint(fields=["vault"], condition=models.Q(vault__isnull=True), name="policy_one_global"),
        ]

    def __str__(self) -> str:
        return f"Policy for {self.vault}" if self.vault_id else "Global policy"

    @classmethod
    def global_policy(cls) -> Policy:
        defaults = {name: getattr(_DEFAULTS, name) for name in POLICY_FIELDS}
        defaults = {k: list(v) if isinstance(v, tuple) else v for k, v in defaults.items()}
        policy, _ = cls.objects.get_or_create(vault=None, defaults=defaults)
        return policy

    @staticmethod
    def _merge(rows: list[Policy]) -> EffectivePolicy:
        """Later rows win; a null (unset) field falls through to the earlier row, then to the
        built-in default."""
        values: dict[str, Any] = {}
        for name in POLICY_FIELDS:
            value: Any = getattr(_DEFAULTS, name)
            for row in rows:
                candidate = getattr(row, name)
                if candidate is not None:
                    value = candidate
            if isinstance(value, list):
                value = tuple(str(v) for v in value)
            values[name] = value
        return EffectivePolicy(**values)

    @classmethod
    def for_vault(cls, vault: Any | None) -> EffectivePolicy:
        rows = [cls.global_policy()]
        if vault is not None:
            override = cls.objects.filter(vault=vault).first()
            if override is not None:
                rows.append(override)
        return cls._merge(rows)

    @classmethod
    def overrides_by_vault(cls, vault_ids: list[int] | None = None) -> dict[int, EffectivePolicy]:
        """Effective policy of every vault that has an override row (two queries in all)."""
        base = cls.global_policy()
        overrides = cls.objects.filter(vault__isnull=False)
        if vault_ids is not None:
            overrides = overrides.filter(vault_id__in=vault_ids)
        return {row.vault_id: cls._merge([base, row]) for row in overrides if row.vault_id is not None}


class Finding(models.Model):
    class Kind(models.TextChoices):
        DUPLICATE = "duplicate", "Duplicate secret"
        # The same secret behind different services: rotate, never archive (vaults/findings/copies.py).
        REUSED_SECRET = "reused_secret", "Reused secret"
        WEAK = "weak", "Weak secret"
        OVERDUE_ROTATION = "overdue_rotation", "Overdue rotation"
        ROTATION_DUE_SOON = "rotation_due_soon", "Rotation due soon"
        ORPHANED = "orphaned", "Orphaned item"
        OVER_PERMISSIONED = "over_permissioned", "Over-permissioned user"
        UNCLEAR_NAME = "unclear_name", "Unclear name"
        MISSING_METADATA = "missing_metadata", "Missing metadata"
        EXPIRING = "expiring", "Expiring or expired"
        SHARED_ACROSS_ENVIRONMENTS = "shared_across_environments", "Shared across environments"
        # Access lifecycle (issue 16): a time-limited grant still held after its end date, and
        # break-glass uses without a stated reason or without the rotation that must follow.
        ACCESS_PAST_END_DATE = "access_past_end_date", "Access past its end date"
        EMERGENCY_REASON_MISSING = "emergency_reason_missing", "Break-glass use without a reason"
        EMERGENCY_ROTATION_LATE = "emergency_rotation_late", "Break-glass secret not rotated in time"

    class Severity(models.TextChoices):
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted risk"
        RESOLVED = "resolved", "Resolved"

    # No index of its own: the unique (account, kind, key) constraint leads with it, and every
    # index costs the first findings run ~130k insertions (bench/bench_findings.py).
    account = models.ForeignKey("vaults.Account", on_delete=models.CASCADE, related_name="findings", db_index=False)
    kind = models.CharField(max_length=40, choices=Kind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    # Rank for ordering by severity in SQL without a CASE: high=3, medium=2, low=1.
    severity_rank = models.PositiveSmallIntegerField(default=1)
    vault = models.ForeignKey("vaults.Vault", null=True, blank=True, on_delete=models.SET_NULL, related_name="findings")
    item = models.ForeignKey("vaults.Item", null=True, blank=True, on_delete=models.SET_NULL, related_name="findings")
    op_user = models.ForeignKey(
        "vaults.OpUser", null=True, blank=True, on_delete=models.SET_NULL, related_name="findings", db_index=False
    )
    key = models.CharField(max_length=200)
    title = models.TextField()
    explanation = models.TextField()
    recommended_action = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    related_items = models.ManyToManyField("vaults.Item", blank=True, related_name="group_findings")
    search_text = models.TextField(blank=True)
    # What both searches match words in, folded once when the row is written, as they fold a word
    # (lower(upper()): vaults/findings/search.py). The trigram index answers a word of three
    # letters or more; a shorter one ("qa") is checked against every open finding, and folding
    # 134,000 documents on each such request cost ~120 ms of its 170 (migration 0014).
    search_document = models.GeneratedField(
        expression=Lower(Upper(Coalesce(NullIf("search_text", Value("")), "title", Value("")))),
        output_field=models.TextField(),
        db_persist=True,
    )
    # SHA-1 of everything the engine writes except timestamps, so an unchanged finding costs
    # nothing instead of a full row rewrite.
    digest = models.CharField(max_length=40, blank=True)
    first_seen = models.DateTimeField()
    # Written when the finding is created, changes, reopens or resolves (then: the last run that
    # still saw it). Read `last_seen_at`, which adds the account's latest run for present ones.
    last_seen = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    accepted_reason = models.TextField(blank=True)
    accepted_until = models.DateField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="accepted_findings",
        db_index=False,
    )  # fmt: skip
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-severity_rank", "kind", "title"]
        constraints = [models.UniqueConstraint(fields=["account", "kind", "key"], name="finding_unique_key")]
        # Open findings, the pages' common case, have partial indexes (migration 0003). Person
        # and acceptor are set on a few hundred of 130k rows: partial indexes cost the rest nothing.
        indexes = [
            models.Index(fields=["account", "status", "kind"]),
            models.Index(fields=["op_user"], condition=models.Q(op_user__isnull=False), name="finding_op_user_idx"),
            models.Index(fields=["accepted_by"], condition=models.Q(accepted_by__isnull=False), name="finding_accepted_by_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title[:200]}"

    @property
    def last_seen_at(self) -> datetime.datetime:
        """When a findings run last saw this finding. One still present (open or accepted) was
        seen by the account's latest run; the engine does not rewrite 130k rows to say so."""
        latest_run = self.account.findings_computed_at
        if self.status != self.Status.RESOLVED and latest_run is not None and latest_run > self.last_seen:
            return latest_run
        return self.last_seen

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    def acceptance_expired(self, today: datetime.date) -> bool:
        return self.status == self.Status.ACCEPTED and self.accepted_until is not None and self.accepted_until < today


SEVERITY_RANK: dict[str, int] = {Finding.Severity.HIGH: 3, Finding.Severity.MEDIUM: 2, Finding.Severity.LOW: 1}

# Words every finding of a kind is found by (lower case): its kind, its label and the rule's own
# words. They used to open (and, for a group, repeat within) each finding's search text, so the
# trigram index held them once per finding. Without them the search text of bench/bench_findings.py's
# 148,581 findings averages 89 characters instead of 137, and inserting them (COPY, every index
# maintained) took 10.2-10.4 s instead of 12.2-12.4 s. The searches match a word against these per
# kind and against the finding's own search text (vaults/findings/search.py, vaults/search.py).
_RULE_WORDS: dict[str, str] = {
    Finding.Kind.REUSED_SECRET: "reused shared secret",
    Finding.Kind.OVERDUE_ROTATION: "rotate rotation overdue",
    Finding.Kind.ROTATION_DUE_SOON: "rotate rotation due soon",
    Finding.Kind.ORPHANED: "unused stale abandoned",
    Finding.Kind.UNCLEAR_NAME: "naming title rename",
    Finding.Kind.MISSING_METADATA: "metadata",
    Finding.Kind.EXPIRING: "expiry expires expired",
    Finding.Kind.ACCESS_PAST_END_DATE: "contractor guest expired end date",
    Finding.Kind.EMERGENCY_REASON_MISSING: "break glass break-glass emergency",
    Finding.Kind.EMERGENCY_ROTATION_LATE: "break glass break-glass emergency",
}
KIND_SEARCH_WORDS: dict[str, str] = {
    str(kind): " ".join(f"{kind} {kind.label} {_RULE_WORDS.get(kind, '')}".lower().split()) for kind in Finding.Kind
}
# The over-permissioned rule always said "over permissioned access user", never its label's hyphen.
KIND_SEARCH_WORDS[Finding.Kind.OVER_PERMISSIONED] = "over_permissioned over permissioned access user"


def kinds_containing(folded: str) -> list[str]:
    """Kinds whose search words contain `folded` (already case folded the way the database folds
    the document: vaults/findings/search.py `_folded`), in order."""
    return [kind for kind, words in KIND_SEARCH_WORDS.items() if folded in words]


class HealthSnapshot(models.Model):
    """A health score as computed after one findings run: for the organisation (vault=None) or
    one vault. `counts` and `penalties` are per finding kind so every lost point is explained."""

    account = models.ForeignKey("vaults.Account", on_delete=models.CASCADE, related_name="health_snapshots")
    vault = models.ForeignKey("vaults.Vault", null=True, blank=True, on_delete=models.CASCADE, related_name="health_snapshots")
    taken_at = models.DateTimeField(db_index=True)
    sync_run = models.ForeignKey("vaults.SyncRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="health_snapshots")
    score = models.PositiveSmallIntegerField()
    items = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    penalties = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-taken_at"]
        get_latest_by = "taken_at"
        indexes = [models.Index(fields=["account", "vault", "taken_at"])]

    def __str__(self) -> str:
        return f"{self.vault or 'Organisation'}: {self.score} at {self.taken_at:%Y-%m-%d %H:%M}"


class FindingCount(models.Model):
    """How many findings of one account are open (or accepted) in one vault (None: about no single
    vault), kind and severity. Written by the findings run and adjusted by a person's decision in
    the same transaction as the findings (vaults/findings/counts.py); read by the dashboard, the
    vault list and the findings list's total instead of counting 134k rows per request. Rows add
    up: a decision inserts -n and +n rows, so `n` may be negative; the next run compacts them."""

    account = models.ForeignKey("vaults.Account", on_delete=models.CASCADE, related_name="+", db_index=False)
    # As the findings' own vault: a vault row is never deleted while its account lives.
    vault = models.ForeignKey("vaults.Vault", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                              db_index=False)
    kind = models.CharField(max_length=40, choices=Finding.Kind.choices)
    severity = models.CharField(max_length=10, choices=Finding.Severity.choices)
    status = models.CharField(max_length=10, choices=Finding.Status.choices)
    # True: findings without a vault of their own (a group across vaults, a person's access),
    # counted here in a vault their details name, because that vault's score counts them. They
    # are also in the account's vault-None rows, so totals over an account leave these out.
    spanning = models.BooleanField(default=False)
    n = models.IntegerField()

    class Meta:
        indexes = [
            # The run replaces an account's rows; the dashboard and the list total sum by status.
            models.Index(fields=["account", "status"], name="finding_count_account"),
            # The vault list sums one vault's rows per vault.
            models.Index(fields=["vault", "status"], name="finding_count_vault"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}/{self.severity}/{self.status} in vault {self.vault_id}: {self.n}"


class FindingStatusSpan(models.Model):
    """A finding's status and severity during one span of time: open from `valid_from` (inclusive)
    until `valid_to` (exclusive; None while still true), like the history spans of
    vaults/models/history.py. A finding row is rewritten in place (a re-seen finding loses
    `resolved_at`, an expired acceptance turns back to open); its spans keep what a closed period
    saw. Written only by vaults/findings/status_history.py, at each status or severity change."""

    # Findings are deleted only with their account (CASCADE), and the spans go with it.
    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="status_spans", db_index=False)
    account = models.ForeignKey("vaults.Account", on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=40, choices=Finding.Kind.choices)
    status = models.CharField(max_length=10, choices=Finding.Status.choices)
    severity = models.CharField(max_length=10, choices=Finding.Severity.choices)
    # The rotation kinds' details (changed_at, period_days) when the span opened: a closed period's
    # rotation table prints the age at its end, and today's details may describe a later secret.
    details = models.JSONField(null=True, blank=True)
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # "Open at moment T" per account, as the other history spans.
            models.Index(fields=["account", "valid_from", "valid_to"], name="finding_span_at"),
            # A finding's spans; the writer closes the open one.
            models.Index(fields=["finding", "valid_to"], name="finding_span_finding"),
        ]

    def __str__(self) -> str:
        return f"Finding {self.finding_id} {self.status} from {self.valid_from:%Y-%m-%d %H:%M}"
