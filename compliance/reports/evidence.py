"""Evidence for the compliance reports, computed once per report by set-based queries.

Every number comes from the same rows the dashboard and the finding engine use: open findings
are `Finding.status == open` (as the dashboard counts them), health is the latest stored
`HealthSnapshot`, access is `vaults.access.effective_access`, usage is the Events API's
`ItemUsage`. For a past period, "as of" is the period's end: findings present then are those
first seen before it and not resolved by it.
"""

from __future__ import annotations

import datetime
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.db.models import Count, Max, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import ExtractHour, TruncHour
from django.utils import timezone

from compliance import audit
from compliance.models import AuditLogEntry
from compliance.reports.document import Cell, percent
from compliance.reviews.models import AccessReview, AccessReviewEntry
from compliance.reviews.periods import Period, last_quarters
from openclaw_web.access_audit import ACTION_PREFIX as ACCESS_ACTION_PREFIX
from openclaw_web.access_audit import TOKEN_ACTIONS
from vaults.access import ELEVATED_PERMISSIONS, AccessRow, effective_access, user_is_inactive
from vaults.findings.candidate import active_items, policy_scopes
from vaults.findings.jsonsql import JSONListHasAny
from vaults.findings.models import Finding, HealthSnapshot
from vaults.findings.usage_coverage import UsageCoverage, usage_coverage
from vaults.models import Account, Item, ItemUsage, SignInAttempt, Vault

UTC = datetime.UTC
OPEN, ACCEPTED, RESOLVED = Finding.Status.OPEN, Finding.Status.ACCEPTED, Finding.Status.RESOLVED
VIOLATION_KINDS = (Finding.Kind.DUPLICATE, Finding.Kind.WEAK, Finding.Kind.OVERDUE_ROTATION)
# Unusual hours: 22:00-06:00 UTC (the organisation's time zone is not known; UTC is stated).
NIGHT_FROM_HOUR, NIGHT_UNTIL_HOUR = 22, 6
# A burst: this many item uses by one person within one clock hour. Regular use in the demo
# organisation peaks at 4 per hour; scripted bulk reads show hundreds.
BURST_EVENTS = 20
# One item used from this many distinct IP addresses within ITEM_SPREAD_WINDOW is flagged per
# item, whoever used it: one key opened by three people on three machines in a minute is a secret
# being spread, which the per-person groupings cannot see (each person used it once).
ITEM_SPREAD_ADDRESSES = 3
ITEM_SPREAD_WINDOW = datetime.timedelta(minutes=1)
EMERGENCY_NAME = re.compile(r"break[\s_-]?glass|emergency", re.IGNORECASE)
EMERGENCY_Q = ("break glass", "break-glass", "breakglass", "break_glass", "emergency")


def _name_matches(field_name: str) -> Q:
    q = Q()
    for word in EMERGENCY_Q:
        q |= Q(**{f"{field_name}__icontains": word})
    return q


def _night() -> Q:
    return Q(hour__gte=NIGHT_FROM_HOUR) | Q(hour__lt=NIGHT_UNTIL_HOUR)


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

    def present_at(self, moment: datetime.datetime) -> Q:
        return Q(first_seen__lte=moment) & (Q(resolved_at__isnull=True) | Q(resolved_at__gt=moment))

    def open_filter(self) -> Q:
        """Open findings as the dashboard counts them (now), or present at a past period's end."""
        if self.is_current:
            return Q(status=OPEN)
        return self.present_at(self.as_of) & ~Q(status=ACCEPTED)

    @cached_property
    def open_by_kind(self) -> dict[str, int]:
        rows = self.findings().filter(self.open_filter()).values_list("kind").annotate(n=Count("pk"))
        return {kind: n for kind, n in rows}

    @cached_property
    def kind_status(self) -> dict[str, dict[str, int]]:
        """Per kind: open, accepted, new in period, resolved in period (one aggregate query)."""
        p = self.period
        rows = self.findings().values("kind").annotate(
            accepted=Count("pk", filter=Q(status=ACCEPTED)),
            new=Count("pk", filter=Q(first_seen__gte=p.start, first_seen__lt=p.end)),
            resolved=Count("pk", filter=Q(resolved_at__gte=p.start, resolved_at__lt=p.end)),
        )
        result = {kind: {"open": 0, "accepted": 0, "new": 0, "resolved": 0} for kind in Finding.Kind.values}
        for row in rows:
            result[row["kind"]].update(accepted=row["accepted"], new=row["new"], resolved=row["resolved"])
        for kind, n in self.open_by_kind.items():
            result[kind]["open"] = n
        return result

    @property
    def open_total(self) -> int:
        return sum(self.open_by_kind.values())

    @property
    def violations_open(self) -> int:
        return sum(self.open_by_kind.get(k, 0) for k in VIOLATION_KINDS)

    def violation_rows(self) -> QuerySet[Finding]:
        p = self.period
        relevant = Q(kind__in=VIOLATION_KINDS) & Q(first_seen__lt=p.end) & (Q(resolved_at__isnull=True) | Q(resolved_at__gte=p.start))
        return self.findings().filter(relevant).select_related("vault").order_by("-severity_rank", "kind", "first_seen", "pk")

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

    # --- items ----------------------------------------------------------------------------

    def active_items(self) -> QuerySet[Item]:
        return Item.objects.filter(vault__account__in=self.accounts, vault__removed_at__isnull=True,
                                   removed_at__isnull=True, archived=False).order_by()

    @cached_property
    def item_compliance(self) -> tuple[int, int]:
        """(active items, active items without an open finding) — a finding names its item or,
        for duplicate/shared groups, its related items."""
        items = self.active_items()
        total = items.count()
        open_q = self.findings().filter(self.open_filter())
        flagged = items.filter(Q(pk__in=open_q.filter(item__isnull=False).values("item_id"))
                               | Q(pk__in=open_q.values("related_items"))).count()
        return total, total - flagged

    @cached_property
    def rotation(self) -> dict[str, int]:
        """Credentials subject to rotation (the rotation rule's own predicate per policy scope),
        overdue and due soon (present findings, accepted included: accepted is still not rotated)."""
        subject = 0
        for account in self.accounts:
            for scope in policy_scopes(account):
                policy = scope.policy
                rotating = Q(category__in=list(policy.rotating_categories)) | (
                    Q(category="LOGIN") & Q(JSONListHasAny("tags", policy.service_account_tags)))
                subject += (active_items(account).filter(scope.q(), rotating, secret_fields__changed_at__isnull=False)
                            .values("pk").distinct().count())
        present = self.findings().filter(Q(status__in=[OPEN, ACCEPTED]) if self.is_current else self.present_at(self.as_of))
        counts = dict(present.filter(kind__in=[Finding.Kind.OVERDUE_ROTATION, Finding.Kind.ROTATION_DUE_SOON])
                      .values_list("kind").annotate(n=Count("pk")))
        overdue = counts.get(Finding.Kind.OVERDUE_ROTATION, 0)
        due_soon = counts.get(Finding.Kind.ROTATION_DUE_SOON, 0)
        return {"subject": subject, "overdue": overdue, "due_soon": due_soon,
                "compliant": max(subject - overdue, 0)}

    def rotation_rows(self) -> QuerySet[Finding]:
        present = self.findings().filter(Q(status__in=[OPEN, ACCEPTED]) if self.is_current else self.present_at(self.as_of))
        return (present.filter(kind__in=[Finding.Kind.OVERDUE_ROTATION, Finding.Kind.ROTATION_DUE_SOON])
                .select_related("vault", "item").order_by("kind", "-severity_rank", "pk"))

    # --- access ---------------------------------------------------------------------------

    @cached_property
    def access(self) -> list[AccessRow]:
        rows: list[AccessRow] = []
        for account in self.accounts:
            rows.extend(effective_access(account))
        return rows

    @cached_property
    def access_figures(self) -> dict[str, int]:
        rows = self.access
        production = [r for r in rows if r.vault.classification == Vault.Classification.PRODUCTION]
        vaults = Vault.objects.filter(account__in=self.accounts, removed_at__isnull=True)
        return {
            "users_with_access": len({r.user.pk for r in rows}),
            "access_pairs": len(rows),
            "vaults": vaults.count(),
            "unclassified_vaults": vaults.filter(classification=Vault.Classification.UNCLASSIFIED).count(),
            "production_vaults": vaults.filter(classification=Vault.Classification.PRODUCTION).count(),
            "production_users": len({r.user.pk for r in production}),
            "production_pairs": len(production),
            "inactive_with_access": len({r.user.pk for r in rows if user_is_inactive(r.user)}),
            "elevated_direct": sum(1 for r in rows if r.direct_permissions & ELEVATED_PERMISSIONS),
            "export_holders": len({r.user.pk for r in rows if "export_items" in r.permissions}),
        }

    def production_access_rows(self) -> list[tuple[Cell, ...]]:
        rows = [r for r in self.access if r.vault.classification == Vault.Classification.PRODUCTION]
        return [(r.user.name or r.user.email or r.user.op_id, r.user.email, "inactive" if user_is_inactive(r.user) else "active",
                 r.vault.name, ", ".join(sorted(r.permissions)), "yes" if r.via_direct else "no",
                 ", ".join(r.via_groups)) for r in rows]

    # --- usage ----------------------------------------------------------------------------

    def usage(self) -> QuerySet[ItemUsage]:
        p = self.period
        return ItemUsage.objects.filter(account__in=self.accounts, timestamp__gte=p.start, timestamp__lt=p.end).order_by()

    @cached_property
    def production_vault_ids(self) -> list[str]:
        return list(Vault.objects.filter(account__in=self.accounts, classification=Vault.Classification.PRODUCTION)
                    .values_list("op_id", flat=True))

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
        """(kind, user, hour, events, distinct IPs, detail) — three GROUP BYs over production usage."""
        base = self.production_usage().annotate(hour_start=TruncHour("timestamp", tzinfo=UTC),
                                                hour=ExtractHour("timestamp", tzinfo=UTC))
        rows: list[tuple[Cell, ...]] = []
        night = (base.filter(_night()).values("user_op_id").annotate(
            n=Count("pk"), ips=Count("client_ip", distinct=True), first=Min("timestamp"), who=Max("user_email")))
        for r in night.order_by("-n", "user_op_id"):
            rows.append(("Unusual hours (22:00-06:00 UTC)", r["who"] or r["user_op_id"], r["first"], r["n"], r["ips"],
                         "item uses at night in production vaults"))
        grouped = base.values("user_op_id", "hour_start").annotate(
            n=Count("pk"), ips=Count("client_ip", distinct=True), who=Max("user_email"))
        for r in grouped.filter(ips__gte=2).order_by("-ips", "-n", "user_op_id", "hour_start"):
            rows.append(("Several IP addresses at once", r["who"] or r["user_op_id"], r["hour_start"], r["n"], r["ips"],
                         f"{r['ips']} addresses within one hour"))
        for r in grouped.filter(n__gte=BURST_EVENTS).order_by("-n", "user_op_id", "hour_start"):
            rows.append(("Burst of access", r["who"] or r["user_op_id"], r["hour_start"], r["n"], r["ips"],
                         f"{r['n']} item uses within one hour (threshold {BURST_EVENTS})"))
        rows.extend(self._item_spread())
        return rows

    def _item_spread(self) -> list[tuple[Cell, ...]]:
        """Per item, not per person: one item used from ITEM_SPREAD_ADDRESSES or more IP addresses
        within ITEM_SPREAD_WINDOW. 1. GROUP BY (item, hour) keeps the few items with two or more
        addresses in some hour (three addresses within a minute put at least two in one hour);
        2. a sliding one-minute window over those items' events in Python."""
        base = self.production_usage().exclude(client_ip="")
        hours = (base.annotate(hour_start=TruncHour("timestamp", tzinfo=UTC)).values("item_op_id", "hour_start")
                 .annotate(ips=Count("client_ip", distinct=True)).order_by())
        busy = {r["item_op_id"] for r in hours.filter(ips__gte=2)}
        if not busy:
            return []
        events = (base.filter(item_op_id__in=sorted(busy))
                  .annotate(item_title=self._item_titles())
                  .values_list("item_op_id", "timestamp", "client_ip", "user_op_id", "user_email", "item_title")
                  .order_by("item_op_id", "timestamp"))
        by_item: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for event in events:
            by_item[event[0]].append(event)
        rows: list[tuple[Cell, ...]] = []
        for item_op_id, item_events in sorted(by_item.items()):
            start = 0
            reported_until: datetime.datetime | None = None
            for end, event in enumerate(item_events):
                while event[1] - item_events[start][1] > ITEM_SPREAD_WINDOW:
                    start += 1
                window = item_events[start : end + 1]
                ips = {e[2] for e in window}
                if len(ips) < ITEM_SPREAD_ADDRESSES or (reported_until and window[0][1] <= reported_until):
                    continue
                people = sorted({e[4] or e[3] for e in window})
                title = event[5] or item_op_id
                rows.append(("One item from several addresses at once", ", ".join(people), window[0][1], len(window),
                             len(ips), f"“{title}” used by {len(people)} people from {len(ips)} addresses within "
                             f"{int(ITEM_SPREAD_WINDOW.total_seconds())} s"))
                reported_until = event[1]
        return rows

    @cached_property
    def anomaly_counts(self) -> Counter[str]:
        return Counter(str(r[0]) for r in self.anomalies)

    # --- emergency access -----------------------------------------------------------------

    def emergency_usage(self) -> QuerySet[Any]:
        vault_ids = Vault.objects.filter(_name_matches("name"), account__in=self.accounts).values_list("op_id", flat=True)
        item_ids = Item.objects.filter(_name_matches("title"), vault__account__in=self.accounts).values_list("op_id", flat=True)
        named = Q(vault_op_id__in=list(vault_ids)) | Q(item_op_id__in=list(item_ids))
        return (self.usage().annotate(hour=ExtractHour("timestamp", tzinfo=UTC)).filter(named | _night())
                .annotate(item_title=self._item_titles(), vault_name=self._vault_names())
                .order_by("timestamp", "pk"))

    @staticmethod
    def emergency_row(u: Any) -> tuple[Cell, ...]:
        named = bool(EMERGENCY_NAME.search(u.vault_name or "") or EMERGENCY_NAME.search(u.item_title or ""))
        night = u.hour >= NIGHT_FROM_HOUR or u.hour < NIGHT_UNTIL_HOUR
        why = " and ".join(w for w, on in (("break-glass/emergency item", named), ("night-time use", night)) if on)
        return (u.timestamp, u.user_name or u.user_email or u.user_op_id, u.user_email, u.vault_name or u.vault_op_id,
                u.item_title or u.item_op_id, u.action, u.client_ip, why)

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
        return audit.verify_chain()

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
            (a.finished_at or a.manual_done_at, a.get_kind_display(), a.vault.name, target_label(a),
             a.plan.proposed_by.get_username(),
             ", ".join(sorted({ap.approver.get_username() for ap in a.approvals.all() if ap.decision == "approve"})),
             a.get_status_display())
            for a in actions
        ])

    # --- quarter over quarter -------------------------------------------------------------

    def quarter_metrics(self, quarters: int = 4) -> list[dict[str, Any]]:
        """Per quarter (oldest first): health at its end, findings present at its end, new and
        resolved during it, violations present at its end, review decisions. One aggregate query
        for the findings of all quarters; one per quarter for health."""
        periods = last_quarters(self.period, quarters)
        aggregates: dict[str, Any] = {}
        for n, q in enumerate(periods):
            end = min(self.now, q.end)
            aggregates[f"present{n}"] = Count("pk", filter=self.present_at(end))
            aggregates[f"viol{n}"] = Count("pk", filter=self.present_at(end) & Q(kind__in=VIOLATION_KINDS))
            aggregates[f"new{n}"] = Count("pk", filter=Q(first_seen__gte=q.start, first_seen__lt=q.end))
            aggregates[f"resolved{n}"] = Count("pk", filter=Q(resolved_at__gte=q.start, resolved_at__lt=q.end))
        counts = self.findings().aggregate(**aggregates)
        result = []
        for n, q in enumerate(periods):
            sub = Evidence(period=q, accounts=self.accounts, now=self.now)
            reviews = sub.review_figures
            result.append({
                "period": q.label, "future": q.start > self.now, "health": sub.health_score,
                "present": counts[f"present{n}"], "violations": counts[f"viol{n}"], "new": counts[f"new{n}"],
                "resolved": counts[f"resolved{n}"], "review_pct": percent(reviews["decided"], reviews["total"]),
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
