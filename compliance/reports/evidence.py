"""Evidence for the compliance reports, computed once per report by set-based queries.

Every number comes from the same rows the dashboard and the finding engine use: open findings
are `Finding.status == open` (as the dashboard counts them), health is the latest stored
`HealthSnapshot`, usage is the Events API's `ItemUsage`. For a closed period, "as of" is the
period's end: findings are read from their status history (`vaults.findings.status_history`), the
status and severity each had then, because the finding rows are rewritten in place (a re-seen
finding loses `resolved_at`, an expired acceptance turns back to open). Access, vaults
and the items counted are read from the history every sync records (`vaults.history`), at "as of"
for every period, the current one included (its latest spans are the state after the last sync):
the same merge as `vaults.access.effective_access`, and no data at all before history began.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from compliance import audit, audit_anchors
from compliance.models import AuditLogEntry
from compliance.reports.document import Cell, percent
from compliance.reports.usage_anomalies import usage_anomalies
from compliance.reviews.models import AccessReview, AccessReviewEntry
from compliance.reviews.periods import Period, last_quarters
from openclaw_web.access_audit import ACTION_PREFIX as ACCESS_ACTION_PREFIX
from openclaw_web.access_audit import TOKEN_ACTIONS
from vaults import history
from vaults.access import ELEVATED_PERMISSIONS, AccessRow, user_is_inactive
from vaults.findings import status_history
from vaults.findings.models import SEVERITY_RANK, Finding, FindingStatusSpan, HealthSnapshot
from vaults.findings.usage_coverage import UsageCoverage, usage_coverage
from vaults.history import AccessChange
from vaults.models import Account, Item, ItemSpan, ItemUsage, OpUser, SignInAttempt, Vault, VaultSpan
from vaults.models.history import GrantSpan, GroupSpan, MembershipSpan, UserSpan
from vaults.permission_labels import permissions_text

UTC = datetime.UTC
OPEN, ACCEPTED, RESOLVED = Finding.Status.OPEN, Finding.Status.ACCEPTED, Finding.Status.RESOLVED
VIOLATION_KINDS = (Finding.Kind.DUPLICATE, Finding.Kind.WEAK, Finding.Kind.OVERDUE_ROTATION)
# Sign-in types of the Events API that prove more than a password: a second factor passed, or a
# sign-in through the organisation's identity provider (SSO). `credentials_ok` is password and
# Secret Key only.
STRONG_SIGNIN_TYPES = ("mfa_ok", "federated")
CREDENTIALS_ONLY_TYPE = "credentials_ok"
# Privileged in 1Password: managing a vault (who else gets access, with which rights) and the
# built-in groups that administer the whole account. Matched by exact name, because `op group
# list` prints no type (only `op group get` does, one call per group): "Owners-archive" is not one.
PRIVILEGED_PERMISSION = "manage_vault"
ADMIN_GROUPS = ("Owners", "Administrators")


PersonKey = tuple[int, str]  # (account pk, user op id): history's users are unsaved rows


@dataclass(frozen=True)
class PrivilegedHolder:
    """One person with privileged rights: the vaults they manage (with the path) and admin groups."""

    user: OpUser
    manages: tuple[tuple[str, str], ...]  # (vault name, "direct, group Ops": the paths that give manage rights)
    admin_groups: tuple[str, ...]

    @property
    def inactive(self) -> bool:
        return user_is_inactive(self.user)


# The keys of `Evidence.access_figures` (all None when history does not cover the period).
ACCESS_FIGURES = ("users_with_access", "access_pairs", "vaults", "unclassified_vaults", "production_vaults",
                  "production_users", "production_pairs", "inactive_with_access", "elevated_direct", "export_holders")


@dataclass
class Evidence:
    """Lazily computed evidence for one period over some accounts (None: all accounts)."""

    period: Period
    accounts: list[Account]
    now: datetime.datetime = field(default_factory=timezone.now)

    @property
    def as_of(self) -> datetime.datetime:
        return min(self.now, self.period.end)

    @property
    def is_current(self) -> bool:
        return self.now < self.period.end

    @cached_property
    def usage_coverage(self) -> list[tuple[Account, UsageCoverage]]:
        """From when each account's item usage was measured: usage figures mean nothing before."""
        return [(account, usage_coverage(account)) for account in self.accounts]

    def usage_covered(self, coverage: UsageCoverage) -> str:
        """How much of this period the usage data covers, in words for the report."""
        if coverage.since is None:
            return "No usage data"
        if coverage.since <= self.period.start:
            return "Whole period"
        if coverage.since < self.as_of:
            return f"From {coverage.since:%Y-%m-%d} only"
        return "No usage data"

    # --- findings -------------------------------------------------------------------------

    def findings(self) -> QuerySet[Finding]:
        return Finding.objects.filter(account__in=self.accounts).order_by()

    def spans(self) -> QuerySet[FindingStatusSpan]:
        return FindingStatusSpan.objects.filter(account__in=self.accounts).order_by()

    def spans_at_end(self, *statuses: str) -> QuerySet[FindingStatusSpan]:
        """The findings' status spans true at the period's end, in one of `statuses`."""
        return self.spans().filter(status_history.open_at(self.as_of), status__in=statuses)

    def status_filter(self, *statuses: str) -> Q:
        """Findings in one of `statuses`: today's for the current period (as the dashboard counts
        them), at the period's end for a closed one (accepting or fixing it later moves nothing)."""
        if self.is_current:
            return Q(status__in=statuses)
        return Q(pk__in=self.spans_at_end(*statuses).values("finding_id"))

    def open_filter(self) -> Q:
        return self.status_filter(OPEN)

    def present_filter(self) -> Q:
        """Open or accepted (accepted is still there)."""
        return self.status_filter(OPEN, ACCEPTED)

    @cached_property
    def open_by_kind(self) -> dict[str, int]:
        rows = self.findings().filter(self.open_filter()).values_list("kind").annotate(n=Count("pk"))
        return {kind: n for kind, n in rows}

    @cached_property
    def kind_status(self) -> dict[str, dict[str, int | None]]:
        """Per kind: open and accepted at the period's end (today for the current period), new in
        the period (first seen, which is never rewritten) and resolved in it (the status history's
        resolutions: a finding resolved then and seen again later still counts). Three queries.
        Every count is None without a findings run by the period's end: unknown, not a clean 0."""
        if not self.findings_computed:
            return {kind: dict.fromkeys(("open", "accepted", "new", "resolved")) for kind in Finding.Kind.values}
        p = self.period
        accepted = dict(self.findings().filter(self.status_filter(ACCEPTED)).values_list("kind").annotate(n=Count("pk")))
        new = dict(self.findings().filter(first_seen__gte=p.start, first_seen__lt=p.end).values_list("kind")
                   .annotate(n=Count("pk")))
        resolved = dict(self.spans().filter(status=RESOLVED, valid_from__gte=p.start, valid_from__lt=p.end)
                        .values_list("kind").annotate(n=Count("finding_id", distinct=True)))
        return {kind: {"open": self.open_by_kind.get(kind, 0), "accepted": accepted.get(kind, 0),
                       "new": new.get(kind, 0), "resolved": resolved.get(kind, 0)} for kind in Finding.Kind.values}

    @property
    def open_total(self) -> int | None:
        """Open findings at the period's end; None without a findings run by then (see kind_status)."""
        return sum(self.open_by_kind.values()) if self.findings_computed else None

    @property
    def violations_open(self) -> int | None:
        return sum(self.open_by_kind.get(k, 0) for k in VIOLATION_KINDS) if self.findings_computed else None

    def violation_rows(self) -> QuerySet[Finding]:
        """Violations present at some time in the period, with their status and severity at its end
        (`status_then`, `severity_then`, `resolved_then`: see `as_of_end`)."""
        p = self.period
        if self.is_current:
            relevant = Q(first_seen__lt=p.end) & (Q(resolved_at__isnull=True) | Q(resolved_at__gte=p.start))
        else:
            during = self.spans().filter(Q(valid_to__isnull=True) | Q(valid_to__gte=p.start), finding=OuterRef("pk"),
                                         status__in=[OPEN, ACCEPTED], valid_from__lt=p.end)
            relevant = Q(Exists(during))
        return (self.as_of_end(self.findings().filter(relevant, kind__in=VIOLATION_KINDS)).select_related("vault")
                .order_by("-rank_then", "kind", "first_seen", "pk"))

    def as_of_end(self, findings: QuerySet[Finding]) -> QuerySet[Finding]:
        """Annotate status_then, severity_then, rank_then, resolved_then and details_then: the row's
        own values for the current period, the status span's at a closed period's end (a finding
        resolved by then has a resolved span, whose start is when)."""
        if self.is_current:
            return findings.annotate(status_then=F("status"), severity_then=F("severity"), rank_then=F("severity_rank"),
                                     resolved_then=F("resolved_at"), details_then=F("details"))
        at_end = self.spans().filter(status_history.open_at(self.as_of), finding=OuterRef("pk")).order_by("-valid_from")
        resolved = at_end.filter(status=RESOLVED)
        annotated = findings.annotate(
            status_then=Subquery(at_end.values("status")[:1]), severity_then=Subquery(at_end.values("severity")[:1]),
            resolved_then=Subquery(resolved.values("valid_from")[:1]), details_then=Subquery(at_end.values("details")[:1]))
        rank = Case(*[When(severity_then=severity, then=Value(n)) for severity, n in SEVERITY_RANK.items()],
                    default=Value(0), output_field=IntegerField())
        return annotated.annotate(rank_then=rank)

    # --- health ---------------------------------------------------------------------------

    @cached_property
    def health(self) -> list[tuple[Account, HealthSnapshot | None]]:
        """Per account, the latest organisation snapshot taken by the as-of moment (1 query)."""
        latest = HealthSnapshot.objects.filter(account=OuterRef("account"), vault__isnull=True,
                                               taken_at__lte=self.as_of).order_by("-taken_at", "-pk")
        snaps = HealthSnapshot.objects.filter(account__in=self.accounts, vault__isnull=True,
                                              pk=Subquery(latest.values("pk")[:1]))
        by_account = {s.account_id: s for s in snaps}
        return [(a, by_account.get(a.pk)) for a in self.accounts]

    @property
    def health_score(self) -> int | None:
        """One account: its score. Several: the mean weighted by active items."""
        snaps = [s for _, s in self.health if s is not None]
        if not snaps:
            return None
        weight = sum(max(s.items, 1) for s in snaps)
        return round(sum(s.score * max(s.items, 1) for s in snaps) / weight)

    # --- history: what was true at the period's end (vaults/history.py) -------------------------

    @cached_property
    def history_since(self) -> dict[int, datetime.datetime | None]:
        """Per account (by pk), when its recorded history starts; None: never recorded."""
        return {account.pk: history.history_since(account) for account in self.accounts}

    def history_covers(self, account: Account) -> bool:
        """True when the account's state at the period's end is known."""
        since = self.history_since.get(account.pk)
        return since is not None and since <= self.as_of

    @property
    def has_access_history(self) -> bool:
        """Access, vault and item figures exist only when every account's history covers the
        period's end; before the first sync after the upgrade there is no evidence (never 0)."""
        return bool(self.accounts) and all(self.history_covers(account) for account in self.accounts)

    def history_covered(self) -> str:
        """How much of the period access changes cover, in words for the report."""
        known = [since for since in self.history_since.values() if since is not None and since < self.period.end]
        if not known or len(known) < len(self.accounts):
            return "No history"
        since = max(known)
        return "Whole period" if since <= self.period.start else f"From {since:%Y-%m-%d %H:%M} UTC only"

    # --- items ----------------------------------------------------------------------------

    def active_items(self) -> QuerySet[ItemSpan]:
        """The items that counted at the period's end (their history spans)."""
        return history.active_items_at(self.accounts, self.as_of)

    @cached_property
    def item_compliance(self) -> tuple[int | None, int | None]:
        """(active items, active items without an open finding) at the period's end — a finding
        names its item or, for duplicate/shared groups, its related items. None: no history."""
        if not self.has_access_history:
            return None, None
        items = self.active_items()
        total = items.count()
        open_q = self.findings().filter(self.open_filter())
        named = Item.objects.filter(Q(pk__in=open_q.filter(item__isnull=False).values("item_id"))
                                    | Q(pk__in=open_q.values("related_items")))
        flagged = items.filter(Exists(named.filter(vault__account=OuterRef("account"), vault__op_id=OuterRef("vault_op_id"),
                                                   op_id=OuterRef("op_id")))).count()
        return total, total - flagged

    @cached_property
    def rotation(self) -> dict[str, int | None]:
        """Credentials subject to rotation at the period's end (the rotation figure's predicate per
        policy scope, recorded with each item's history: `vaults.history.rotating_items`), overdue
        and due soon (present findings, accepted included: accepted is still not rotated). Without a
        findings run by the period's end, overdue and due soon are unknown, not 0."""
        subject = self.active_items().filter(rotating=True).count() if self.has_access_history else None
        if not self.findings_computed:
            return {"subject": subject, "overdue": None, "due_soon": None, "compliant": None}
        present = self.findings().filter(self.present_filter())
        counts = dict(present.filter(kind__in=[Finding.Kind.OVERDUE_ROTATION, Finding.Kind.ROTATION_DUE_SOON])
                      .values_list("kind").annotate(n=Count("pk")))
        overdue = counts.get(Finding.Kind.OVERDUE_ROTATION, 0)
        due_soon = counts.get(Finding.Kind.ROTATION_DUE_SOON, 0)
        return {"subject": subject, "overdue": overdue, "due_soon": due_soon,
                "compliant": None if subject is None else max(subject - overdue, 0)}

    def rotation_rows(self) -> QuerySet[Finding]:
        """Rotation findings present at the period's end, annotated as `as_of_end` says."""
        present = self.findings().filter(self.present_filter(),
                                         kind__in=[Finding.Kind.OVERDUE_ROTATION, Finding.Kind.ROTATION_DUE_SOON])
        return self.as_of_end(present).select_related("vault", "item").order_by("kind", "-rank_then", "pk")

    def rotation_age(self, details: dict[str, Any]) -> int | None:
        """A rotation finding's age in days: as its engine run computed it for the current period;
        for a closed one, whole days from the day the secret was last changed to the period's end
        (the finding's own `age_days` is rewritten by every later run)."""
        if self.is_current:
            return details.get("age_days")
        changed = details.get("changed_at")
        if not changed:
            return None
        return (self.as_of.date() - datetime.date.fromisoformat(changed)).days

    # --- access ---------------------------------------------------------------------------

    @cached_property
    def access(self) -> list[AccessRow]:
        """Every user-vault access at the period's end (empty without history: see access_figures)."""
        if not self.has_access_history:
            return []
        rows: list[AccessRow] = []
        for account in self.accounts:
            rows.extend(history.access_at(account, self.as_of))
        return rows

    @cached_property
    def vaults(self) -> list[Vault]:
        """The vaults present at the period's end, as they were then."""
        if not self.has_access_history:
            return []
        return [vault for account in self.accounts for vault in history.vaults_at(account, self.as_of)]

    @cached_property
    def access_figures(self) -> dict[str, int | None]:
        """Access and vault counts at the period's end; every value None when history does not
        cover it ("no data", never 0)."""
        if not self.has_access_history:
            return dict.fromkeys(ACCESS_FIGURES)
        rows = self.access
        production = [r for r in rows if r.vault.classification == Vault.Classification.PRODUCTION]
        classes = Counter(vault.classification for vault in self.vaults)
        return {
            "users_with_access": len({r.user.pk for r in rows}),
            "access_pairs": len(rows),
            "vaults": len(self.vaults),
            "unclassified_vaults": classes[Vault.Classification.UNCLASSIFIED],
            "production_vaults": classes[Vault.Classification.PRODUCTION],
            "production_users": len({r.user.pk for r in production}),
            "production_pairs": len(production),
            "inactive_with_access": len({r.user.pk for r in rows if user_is_inactive(r.user)}),
            "elevated_direct": sum(1 for r in rows if r.direct_permissions & ELEVATED_PERMISSIONS),
            "export_holders": len({r.user.pk for r in rows if "export_items" in r.permissions}),
        }

    def production_access_rows(self) -> list[tuple[Cell, ...]]:
        rows = [r for r in self.access if r.vault.classification == Vault.Classification.PRODUCTION]
        return [(r.user.name or r.user.email or r.user.op_id, r.user.email, "inactive" if user_is_inactive(r.user) else "active",
                 r.vault.name, permissions_text(r.permissions), "yes" if r.via_direct else "no",
                 ", ".join(r.via_groups)) for r in rows]

    # --- usage ----------------------------------------------------------------------------

    def usage(self) -> QuerySet[ItemUsage]:
        p = self.period
        return ItemUsage.objects.filter(account__in=self.accounts, timestamp__gte=p.start, timestamp__lt=p.end).order_by()

    @cached_property
    def production_vault_ids(self) -> list[str]:
        """Vaults classified production at any time in the period (from history), so a later
        reclassification does not change a closed period's usage figures; for an account whose
        history does not reach the period, today's classification (its usage is not dropped)."""
        production = Vault.Classification.PRODUCTION
        with_history = [a for a in self.accounts if self.history_covers(a)]
        without = [a for a in self.accounts if a not in with_history]
        spans = VaultSpan.objects.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=self.period.start),
                                         account__in=with_history, classification=production,
                                         valid_from__lt=self.period.end)
        today = Vault.objects.filter(account__in=without, classification=production)
        return sorted(set(spans.values_list("op_id", flat=True)) | set(today.values_list("op_id", flat=True)))

    # --- access changes in the period (SOC 2 CC6.2/CC6.3, ISO A.5.18) ---------------------------------

    @cached_property
    def _access_changes(self) -> list[AccessChange] | None:
        if self.history_covered() == "No history":
            return None
        return history.access_changes(self.accounts, self.period.start, self.period.end)

    def access_changes(self) -> list[AccessChange] | None:
        """User-vault accesses granted, modified or removed in 1Password during the period, oldest
        first; None when no history covers any of it (changes before history began are unknown)."""
        return self._access_changes

    @cached_property
    def access_change_counts(self) -> dict[str, int] | None:
        changes = self.access_changes()
        if changes is None:
            return None
        counts: Counter[str] = Counter(change.change for change in changes)
        return {kind: counts[kind] for kind in ("granted", "modified", "removed")}

    def production_usage(self) -> QuerySet[ItemUsage]:
        return self.usage().filter(vault_op_id__in=self.production_vault_ids)

    @cached_property
    def usage_figures(self) -> dict[str, int]:
        all_usage = self.usage().aggregate(n=Count("pk"), users=Count("user_op_id", distinct=True))
        prod = self.production_usage().aggregate(n=Count("pk"), users=Count("user_op_id", distinct=True),
                                                 items=Count("item_op_id", distinct=True))
        signins = SignInAttempt.objects.filter(account__in=self.accounts, timestamp__gte=self.period.start,
                                               timestamp__lt=self.period.end).aggregate(
            n=Count("pk"), failed=Count("pk", filter=~Q(category="success")))
        return {"events": all_usage["n"], "users": all_usage["users"], "production_events": prod["n"],
                "production_users": prod["users"], "production_items": prod["items"],
                "signins": signins["n"], "signin_failures": signins["failed"]}

    def _item_titles(self) -> Subquery:
        items = Item.objects.filter(op_id=OuterRef("item_op_id"), vault__account=OuterRef("account")).values("title")[:1]
        return Subquery(items)

    def _vault_names(self) -> Subquery:
        vaults = Vault.objects.filter(op_id=OuterRef("vault_op_id"), account=OuterRef("account")).values("name")[:1]
        return Subquery(vaults)

    def accesses_per_user_item(self) -> QuerySet[Any]:
        return (self.production_usage().values("account", "user_op_id", "item_op_id", "vault_op_id")
                .annotate(n=Count("pk"), first=Min("timestamp"), last=Max("timestamp"), who=Max("user_email"),
                          name=Max("user_name"))
                .annotate(item_title=self._item_titles(), vault_name=self._vault_names())
                .order_by("-n", "user_op_id", "item_op_id"))

    @staticmethod
    def accesses_row(r: dict[str, Any]) -> tuple[Cell, ...]:
        return (r["name"] or r["who"] or r["user_op_id"], r["who"], r["vault_name"] or r["vault_op_id"],
                r["item_title"] or r["item_op_id"], r["n"], r["first"], r["last"])

    @cached_property
    def anomalies(self) -> list[tuple[Cell, ...]]:
        """(kind, user, hour, events, distinct IPs, detail) over the period's production usage."""
        return usage_anomalies(self.production_usage())

    @cached_property
    def anomaly_counts(self) -> Counter[str]:
        return Counter(str(r[0]) for r in self.anomalies)

    # --- access reviews -------------------------------------------------------------------

    def reviews(self) -> QuerySet[AccessReview]:
        p = self.period
        return (AccessReview.objects.filter(account__in=self.accounts, period_start__lt=p.end, period_end__gt=p.start)
                .select_related("opened_by", "signed_off_by", "second_approver", "cleanup_plan").order_by("opened_at", "pk"))

    @cached_property
    def review_figures(self) -> dict[str, int]:
        reviews = self.reviews()
        entries = AccessReviewEntry.objects.filter(review__in=reviews).aggregate(
            total=Count("pk"), decided=Count("pk", filter=~Q(decision="")),
            keep=Count("pk", filter=Q(decision="keep")), revoke=Count("pk", filter=Q(decision="revoke")),
            change=Count("pk", filter=Q(decision="change")),
            flagged=Count("pk", filter=Q(flag_unused=True) | Q(flag_over_permissioned=True)),
            actions=Count("cleanup_action"))
        return {"reviews": reviews.count(),
                "signed_off": reviews.filter(status=AccessReview.Status.SIGNED_OFF).count(), **entries}

    def review_changes(self) -> QuerySet[AccessReviewEntry]:
        return (AccessReviewEntry.objects.filter(review__in=self.reviews()).exclude(decision__in=["", "keep"])
                .select_related("review", "decided_by", "cleanup_action", "review__signed_off_by", "review__second_approver")
                .order_by("review_id", "vault_name", "user_label", "pk"))

    # --- audit log ------------------------------------------------------------------------

    @cached_property
    def audit_chain(self) -> audit.ChainReport:
        """The whole chain verified at generation (a fact of the generation, not of the period)."""
        return audit.verify_chain()

    @cached_property
    def audit_anchors(self) -> audit_anchors.AnchorCheck:
        """The anchors checked at generation: a cut tail passes `verify_chain` but not this."""
        return audit_anchors.verify_anchors()

    @property
    def audit_intact(self) -> bool:
        return self.audit_chain.ok and self.audit_anchors.ok

    @cached_property
    def audit_at_end(self) -> tuple[int, audit.ChainAnchor]:
        """(entries written by the period's end, the newest of them): the same on every regeneration."""
        entries = AuditLogEntry.objects.filter(created_at__lt=self.as_of)
        newest = entries.order_by("-seq").values_list("seq", "entry_hash").first()
        return entries.count(), audit.ChainAnchor(*newest) if newest else audit.ChainAnchor(0, audit.GENESIS_HASH)

    # --- OpenClaw's own access changes (SOC 2 CC6.2/CC6.3) ---------------------------------

    def own_access_changes(self) -> QuerySet[AuditLogEntry]:
        """Changes to OpenClaw's own people, roles and credentials during the period, from the
        audit entries `openclaw_web.access_audit` writes (and the API token entries)."""
        p = self.period
        return (AuditLogEntry.objects.filter(Q(action__startswith=ACCESS_ACTION_PREFIX) | Q(action__in=TOKEN_ACTIONS),
                                             created_at__gte=p.start, created_at__lt=p.end)
                .order_by("seq"))

    @cached_property
    def own_access_change_counts(self) -> dict[str, int]:
        """Per action, how many entries in the period (one GROUP BY)."""
        return dict(self.own_access_changes().order_by().values_list("action").annotate(n=Count("pk")))

    # --- cleanup --------------------------------------------------------------------------

    def cleanup_done(self) -> Iterator[tuple[Cell, ...]] | None:
        """Cleanup actions finished in the period, or None when the cleanup app is absent."""
        try:
            from vaults.cleanup.actions import target_label
            from vaults.cleanup.models import ProposedAction
        except ImportError:  # pragma: no cover - the cleanup app is part of the product
            return None
        done = [ProposedAction.Status.DONE, ProposedAction.Status.VERIFIED, ProposedAction.Status.MANUAL_DONE]
        actions = (ProposedAction.objects.filter(plan__account__in=self.accounts, status__in=done)
                   .filter(Q(finished_at__gte=self.period.start, finished_at__lt=self.period.end)
                           | Q(finished_at__isnull=True, manual_done_at__gte=self.period.start, manual_done_at__lt=self.period.end))
                   .select_related("plan__proposed_by", "vault", "item", "op_user", "op_group", "manual_done_by")
                   .prefetch_related("approvals__approver").order_by("finished_at", "pk"))
        return iter([
            (a.finished_at or a.manual_done_at, a.get_kind_display(), a.vault_name, target_label(a),
             a.plan.proposed_by.get_username(),
             ", ".join(sorted({ap.approver.get_username() for ap in a.approvals.all() if ap.decision == "approve"})),
             a.get_status_display())
            for a in actions
        ])

    # --- what the period has data for (control verdicts: "No evidence" is never a pass) --------

    @cached_property
    def findings_computed(self) -> bool:
        """Findings existed by the period's end: every account has a health snapshot taken by then
        (the finding engine writes one on every run); one account never computed counts as none."""
        return bool(self.health) and all(snapshot is not None for _, snapshot in self.health)

    @cached_property
    def usage_covers_period(self) -> bool:
        """Every account's item usage was measured over the whole period (see usage_covered)."""
        return bool(self.accounts) and all(c.since is not None and c.since <= self.period.start
                                           for _, c in self.usage_coverage)

    @cached_property
    def signin_since(self) -> list[tuple[Account, datetime.datetime | None]]:
        """Per account, the earliest stored sign-in attempt (None: no Events API or nothing delivered)."""
        first = dict(SignInAttempt.objects.filter(account__in=self.accounts).values_list("account")
                     .annotate(first=Min("timestamp")).order_by())
        return [(a, first.get(a.pk) if a.events_url else None) for a in self.accounts]

    @property
    def signins_cover_period(self) -> bool:
        return bool(self.accounts) and all(since is not None and since <= self.period.start
                                           for _, since in self.signin_since)

    @cached_property
    def audit_log_covers_period(self) -> bool:
        """OpenClaw was recording during the period: its audit log has an entry from before the period's end."""
        return AuditLogEntry.objects.filter(created_at__lt=self.period.end).exists()

    # --- sign-ins (ISO A.8.5, SOC 2 CC6.6) -------------------------------------------------------

    @cached_property
    def signin_methods(self) -> dict[str, int]:
        """Sign-in attempts in the period by how they ended (one aggregate query). 1Password's
        Events API: category `success` with type `mfa_ok` (second factor passed), `federated`
        (signed in through the identity provider, SSO) or `credentials_ok` (account password and
        Secret Key only); `firewall_failed` (blocked by the account's firewall rules) and
        `firewall_reported_success` (a rule in report-only mode would have blocked it)."""
        p = self.period
        success = Q(category="success")
        return SignInAttempt.objects.filter(account__in=self.accounts, timestamp__gte=p.start, timestamp__lt=p.end).aggregate(
            total=Count("pk"), success=Count("pk", filter=success),
            strong=Count("pk", filter=success & Q(attempt_type__in=STRONG_SIGNIN_TYPES)),
            credentials_only=Count("pk", filter=success & Q(attempt_type=CREDENTIALS_ONLY_TYPE)),
            firewall_blocked=Count("pk", filter=Q(category="firewall_failed")),
            firewall_reported=Count("pk", filter=Q(category="firewall_reported_success")))

    def single_factor_signins(self) -> QuerySet[SignInAttempt]:
        """Successful sign-ins without a second factor or SSO, and those a report-only firewall rule let through."""
        p = self.period
        return (SignInAttempt.objects.filter(account__in=self.accounts, timestamp__gte=p.start, timestamp__lt=p.end)
                .filter(Q(category="success", attempt_type=CREDENTIALS_ONLY_TYPE) | Q(category="firewall_reported_success"))
                .order_by("timestamp", "pk"))

    # --- privileged access (ISO A.8.2, SOC 2 CC6.3) ----------------------------------------------

    @cached_property
    def privileged_access(self) -> list[PrivilegedHolder]:
        """Everyone holding a privileged right at the period's end, by person: manage rights on a
        vault through ANY path (a direct grant or a group's grant) and membership of the built-in
        Owners and Administrators groups (account-wide administration). Empty without history."""
        if not self.has_access_history:
            return []
        manages: dict[PersonKey, list[tuple[str, str]]] = defaultdict(list)
        people: dict[PersonKey, OpUser] = {}
        managing_groups = self._managing_groups()
        for row in self.access:
            if PRIVILEGED_PERMISSION not in row.permissions:
                continue
            groups = [g for g in row.via_groups if g in managing_groups.get((row.vault.account_id, row.vault.op_id), ())]
            paths = (["direct"] if PRIVILEGED_PERMISSION in row.direct_permissions else []) + [f"group {g}" for g in groups]
            path = ", ".join(paths)
            key = (row.user.account_id, row.user.op_id)
            manages[key].append((row.vault.name, path))
            people[key] = row.user
        admin_groups: dict[PersonKey, list[str]] = defaultdict(list)
        for user, group in self._admin_group_members():
            key = (user.account_id, user.op_id)
            admin_groups[key].append(group)
            people.setdefault(key, user)
        holders = [PrivilegedHolder(user=user, admin_groups=tuple(sorted(admin_groups.get(key, ()))),
                                    manages=tuple(sorted(manages.get(key, ()))))
                   for key, user in people.items()]
        return sorted(holders, key=lambda h: (str(h.user).casefold(), h.user.op_id))

    def _managing_groups(self) -> dict[tuple[int, str], set[str]]:
        """(account pk, vault op id) -> names of the groups whose grant on it includes manage rights
        at the period's end: an access row names every group a person reaches a vault through, and
        only these make them a manager (two queries per account; permissions are stored granular)."""
        at = history.open_at(self.as_of)
        result: dict[tuple[int, str], set[str]] = defaultdict(set)
        for account in self.accounts:
            names = dict(GroupSpan.objects.filter(at, account=account, removed=False).values_list("op_id", "name"))
            grants = GrantSpan.objects.filter(at, account=account).exclude(group_op_id="").values_list(
                "vault_op_id", "group_op_id", "permissions")
            for vault_op_id, group_op_id, permissions in grants:
                if PRIVILEGED_PERMISSION in (permissions or []) and group_op_id in names:
                    result[(account.pk, vault_op_id)].add(names[group_op_id])
        return result

    def _admin_group_members(self) -> list[tuple[OpUser, str]]:
        """(person, group name) per member of a built-in admin group at the period's end, from the
        history spans (three queries per account)."""
        at = history.open_at(self.as_of)
        result: list[tuple[OpUser, str]] = []
        for account in self.accounts:
            groups = dict(GroupSpan.objects.filter(at, account=account, removed=False, name__in=ADMIN_GROUPS)
                          .values_list("op_id", "name"))
            members = list(MembershipSpan.objects.filter(at, account=account, group_op_id__in=list(groups))
                           .values_list("user_op_id", "group_op_id"))
            users = {u.op_id: u for u in UserSpan.objects.filter(at, account=account, op_id__in={m for m, _ in members})}
            for user_op_id, group_op_id in members:
                span = users.get(user_op_id)
                if span is not None:
                    result.append((OpUser(account=account, op_id=span.op_id, name=span.name, email=span.email,
                                          user_type=span.user_type, state=span.state,
                                          removed_at=span.valid_from if span.removed else None), groups[group_op_id]))
        return result

    # --- quarter over quarter -------------------------------------------------------------

    def quarter_metrics(self, quarters: int = 4) -> list[dict[str, Any]]:
        """Per quarter (oldest first): health at its end, findings present at its end, new and
        resolved during it, violations present at its end, review decisions. Two aggregate queries
        for the findings of all quarters (closed quarters read the status history, the current one
        today's status); one per quarter for health."""
        periods = last_quarters(self.period, quarters)
        aggregates: dict[str, Any] = {}
        span_aggregates: dict[str, Any] = {}
        for n, q in enumerate(periods):
            if q.end <= self.now:
                present = status_history.open_at(q.end) & Q(status__in=[OPEN, ACCEPTED])
                span_aggregates[f"present{n}"] = Count("pk", filter=present)
                span_aggregates[f"viol{n}"] = Count("pk", filter=present & Q(kind__in=VIOLATION_KINDS))
            else:
                aggregates[f"present{n}"] = Count("pk", filter=Q(status__in=[OPEN, ACCEPTED]))
                aggregates[f"viol{n}"] = Count("pk", filter=Q(status__in=[OPEN, ACCEPTED], kind__in=VIOLATION_KINDS))
            aggregates[f"new{n}"] = Count("pk", filter=Q(first_seen__gte=q.start, first_seen__lt=q.end))
            span_aggregates[f"resolved{n}"] = Count("finding_id", distinct=True, filter=Q(
                status=RESOLVED, valid_from__gte=q.start, valid_from__lt=q.end))
        counts = {**self.findings().aggregate(**aggregates), **self.spans().aggregate(**span_aggregates)}
        result = []
        for n, q in enumerate(periods):
            sub = Evidence(period=q, accounts=self.accounts, now=self.now)
            reviews = sub.review_figures
            # A quarter that ended before the first findings run has no findings figures, not zeros.
            computed = sub.findings_computed
            result.append({
                "period": q.label, "future": q.start > self.now, "health": sub.health_score,
                **{key: counts[f"{column}{n}"] if computed else None
                   for key, column in (("present", "present"), ("violations", "viol"), ("new", "new"), ("resolved", "resolved"))},
                "review_pct": percent(reviews["decided"], reviews["total"]),
            })
        return result


def by_vault_kind(evidence: Evidence) -> list[tuple[str, dict[str, int]]]:
    """Open findings per vault and kind (one GROUP BY), worst vault first."""
    table: dict[str, dict[str, int]] = defaultdict(dict)
    rows = (evidence.findings().filter(evidence.open_filter(), vault__isnull=False)
            .values_list("vault__name", "kind").annotate(n=Count("pk")))
    for vault, kind, n in rows:
        table[vault][kind] = n
    return sorted(table.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
