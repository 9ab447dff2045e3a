"""Read-side queries behind the inventory pages and the dashboard.

Every function runs a fixed number of queries whatever the number of rows (vaults, items,
grants, findings, snapshots), so the pages built on them stay constant in queries. Who can reach
what always comes from `vaults.access.effective_access` (one place for effective access).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Case, Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from vaults.access import AccessRow, effective_access
from vaults.findings import counts as finding_counts
from vaults.findings import vault_scope
from vaults.findings.models import EffectivePolicy, Finding, HealthSnapshot, Policy
from vaults.models import Account, Item, OpUser, SecretField, SyncRun, Vault
from vaults.models.inventory import ACTIVE_ITEMS

OPEN = Finding.Status.OPEN


# --- vaults -----------------------------------------------------------------------------------


def _latest_of_vault(column: str) -> Subquery:
    """A column of the vault's latest health snapshot (one probe of migration 0003's
    snapshot_vault_latest_idx)."""
    latest = HealthSnapshot.objects.filter(vault=OuterRef("pk")).order_by("-taken_at", "-pk")
    return Subquery(latest.values(column)[:1], output_field=IntegerField())


def _count(queryset: QuerySet[Any], link: str) -> Coalesce:
    """A correlated COUNT subquery: unlike Count() over joins, two of them never multiply.

    COUNT(*) rather than COUNT(id), so a (partial) index on `link` answers it without the heap."""
    counted = queryset.filter(**{link: OuterRef("pk")}).order_by().values(link).annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _active_items() -> Case:
    """Active items per vault as the last findings run counted them (its health snapshot), so the
    list does not count 100k items per request; counted live for a vault not scored yet or an
    account never computed. Between a sync and the findings run that follows it the list shows
    the run's figure, the one its score and findings are computed over."""
    live = _count(Item.objects.filter(ACTIVE_ITEMS), "vault")
    return Case(
        When(account__findings_computed_at__isnull=True, then=live),
        default=Coalesce(_latest_of_vault("items"), live),
        output_field=IntegerField(),
    )


def vault_rows(*, q: str = "", account: Account | None = None, classification: str = "") -> QuerySet[Vault]:
    """Live vaults with their latest score, active item count and open finding count, the
    counts kept by the findings run (vaults/findings/counts.py), not counted per request."""
    vaults = Vault.objects.filter(removed_at__isnull=True).select_related("account", "owner").annotate(
        score_value=_latest_of_vault("score"),
        active_items=_active_items(),
        open_findings=finding_counts.open_in_vault(),
    )
    if q:
        vaults = vaults.filter(Q(name__icontains=q) | Q(op_id=q))
    if account is not None:
        vaults = vaults.filter(account=account)
    if classification:
        vaults = vaults.filter(classification=classification)
    return vaults


def rotation_days(vault: Vault, policy: EffectivePolicy) -> int:
    if vault.classification == Vault.Classification.PRODUCTION:
        return policy.rotation_days_production
    return policy.rotation_days_nonprod


def with_rotation_days(vaults: Iterable[Vault]) -> list[Vault]:
    """Attach `rotation_days` (from the global policy and any override) to each vault (2 queries)."""
    vault_list = list(vaults)
    overrides = Policy.overrides_by_vault([v.pk for v in vault_list])
    base = Policy.for_vault(None) if len(overrides) < len(vault_list) else None
    for vault in vault_list:
        policy = overrides.get(vault.pk) or base
        vault.rotation_days = rotation_days(vault, policy) if policy else None  # type: ignore[attr-defined]  # attached for the page
    return vault_list


def vault_items(vault: Vault, *, q: str = "") -> QuerySet[Item]:
    """Active items of a vault with their concealed fields' strength facts (2 queries per page)."""
    items = vault.items.filter(ACTIVE_ITEMS).prefetch_related(
        Prefetch("secret_fields", queryset=SecretField.objects.order_by("label", "field_id"))
    )
    if q:
        items = items.filter(Q(title__icontains=q) | Q(tags__icontains=q) | Q(op_id=q))
    return items.order_by("title", "pk")


def latest_snapshot(*, account: Account | None = None, vault: Vault | None = None) -> HealthSnapshot | None:
    snapshots = HealthSnapshot.objects.order_by("-taken_at", "-pk")
    if vault is not None:
        return snapshots.filter(vault=vault).first()
    return snapshots.filter(account=account, vault__isnull=True).first()


@dataclass(frozen=True)
class Penalty:
    kind: str
    label: str
    count: int
    points: float


def penalties(snapshot: HealthSnapshot | None) -> list[Penalty]:
    """Where a snapshot's lost points went, biggest first, with readable kind names."""
    if snapshot is None:
        return []
    labels = dict(Finding.Kind.choices)
    counts = snapshot.counts if isinstance(snapshot.counts, dict) else {}
    raw = snapshot.penalties if isinstance(snapshot.penalties, dict) else {}
    rows = [
        Penalty(kind=str(kind), label=labels.get(str(kind), str(kind)), count=_int(counts.get(kind)), points=_float(points))
        for kind, points in raw.items()
        if _float(points) > 0
    ]
    return sorted(rows, key=lambda p: (-p.points, p.label))


def _int(value: Any) -> int:  # JSON or aggregate values: whatever the row held
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def vault_summary(vault: Vault) -> dict[str, Any]:
    """The head of a vault's page: score, points lost, facts."""
    snapshot = latest_snapshot(vault=vault)
    policy = Policy.for_vault(vault)
    return {
        "snapshot": snapshot,
        "penalties": penalties(snapshot),
        "rotation_days": rotation_days(vault, policy),
        "item_count": _item_count(vault, snapshot),
    }


def _item_count(vault: Vault, snapshot: HealthSnapshot | None) -> int:
    """As the vault list says it (`_active_items`): the last findings run's count when there is one."""
    if snapshot is not None and vault.account.findings_computed_at is not None:
        return snapshot.items
    return vault.items.filter(ACTIVE_ITEMS).count()


def vault_contents(vault: Vault) -> dict[str, Any]:
    """The body of a vault's page besides the item table: who has access, open findings."""
    return {
        "access": effective_access(vault.account, vault=vault),
        "findings": open_findings(vault=vault, limit=VAULT_PAGE_FINDINGS),
    }


# --- findings about one thing -----------------------------------------------------------------


# The vault page shows the most severe open findings; the findings list (linked) has them all.
VAULT_PAGE_FINDINGS = 25


def open_findings(
    *, vault: Vault | None = None, item: Item | None = None, user: OpUser | None = None, limit: int = 100
) -> list[Finding]:
    """Open findings that name this vault (the ones its score counts: vaults/findings/vault_scope.py),
    item (directly or as a group member) or person."""
    # A UNION of the direct foreign keys and the group memberships, not one OR across the
    # many-to-many join: the OR cannot use an index and scanned every open finding.
    direct = Q()
    grouped = Q()
    if vault is not None:
        direct |= Q(vault=vault)
        grouped |= Q(item__vault=vault)
    if item is not None:
        direct |= Q(item=item)
        grouped |= Q(item=item)
    if user is not None:
        direct |= Q(op_user=user)
    if not direct:
        return []
    # The first `limit` of the direct ones (an index scan) plus the few group ones hold the first
    # `limit` of all.
    order = ("-severity_rank", "kind", "title", "pk")
    matching = Finding.objects.filter(direct, status=OPEN).order_by().values("pk")
    if not grouped or connection.features.supports_slicing_ordering_in_compound:
        # SQLite (the demo) refuses LIMIT inside a UNION; at its sizes the whole set is cheap.
        matching = matching.order_by(*order)[:limit]
    if grouped:
        members = Finding.related_items.through.objects.filter(grouped, finding__status=OPEN)
        matching = matching.union(members.order_by().values("finding_id"))
    if vault is not None:
        named = vault_scope.person_findings_naming(vault, Finding.objects.filter(status=OPEN))
        matching = matching.union(Finding.objects.filter(pk__in=named).order_by().values("pk"))
    findings = Finding.objects.filter(pk__in=matching).select_related("vault", "item", "op_user")
    return list(findings.order_by(*order)[:limit])


def item_access(item: Item) -> list[AccessRow]:
    return effective_access(item.vault.account, vault=item.vault)


def person_access(user: OpUser) -> list[AccessRow]:
    rows = effective_access(user.account, user=user)
    for row in rows:
        row.vault.account = user.account  # every vault a user reaches is in the user's account
    return rows


# --- dashboard --------------------------------------------------------------------------------


def quarter_start(now: datetime.datetime) -> datetime.datetime:
    month = 3 * ((now.month - 1) // 3) + 1
    return now.replace(month=month, day=1, hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class KindCount:
    kind: str
    label: str
    open_now: int
    last_quarter: int | None  # None: no snapshot from before this quarter to compare with

    @property
    def delta(self) -> int | None:
        return None if self.last_quarter is None else self.open_now - self.last_quarter


def _org_snapshot_before(moment: datetime.datetime) -> list[HealthSnapshot]:
    """Per account, the latest organisation snapshot taken before `moment` (1 query)."""
    latest = HealthSnapshot.objects.filter(
        account=OuterRef("account"), vault__isnull=True, taken_at__lt=moment
    ).order_by("-taken_at", "-pk")
    return list(
        HealthSnapshot.objects.filter(vault__isnull=True, taken_at__lt=moment, pk=Subquery(latest.values("pk")[:1]))
    )


def counts_by_kind(now: datetime.datetime | None = None) -> list[KindCount]:
    """Open findings per kind now, against the organisation snapshots from before this quarter."""
    now = now or timezone.now()
    open_now = finding_counts.open_by_kind()  # kept by the findings run, not counted per request
    baseline = _org_snapshot_before(quarter_start(now))
    before: dict[str, int] = defaultdict(int)
    for snapshot in baseline:
        for kind, count in (snapshot.counts or {}).items():
            before[str(kind)] += _int(count)
    return [
        KindCount(kind=kind, label=label, open_now=open_now.get(kind, 0), last_quarter=before[kind] if baseline else None)
        for kind, label in Finding.Kind.choices
    ]


@dataclass(frozen=True)
class AccountHealth:
    account: Account
    snapshot: HealthSnapshot | None
    history: list[HealthSnapshot]
    last_run: SyncRun | None


# A year of weekly snapshots or a quarter of daily ones; more points add nothing a chart can show.
TREND_POINTS = 120


def account_health(accounts: Sequence[Account]) -> list[AccountHealth]:
    """Per account: the latest organisation snapshot, recent history and the last sync (3 queries)."""
    ids = [a.pk for a in accounts]
    history: dict[int, list[HealthSnapshot]] = defaultdict(list)
    snapshots = HealthSnapshot.objects.filter(account_id__in=ids, vault__isnull=True).order_by("-taken_at", "-pk")
    for snapshot in snapshots[: TREND_POINTS * max(len(ids), 1)]:
        if len(history[snapshot.account_id]) < TREND_POINTS:
            history[snapshot.account_id].append(snapshot)
    latest_run = SyncRun.objects.filter(account=OuterRef("pk")).order_by("-created_at", "-pk").values("pk")[:1]
    run_ids = Account.objects.filter(pk__in=ids).annotate(run_id=Subquery(latest_run)).values("run_id")
    runs = SyncRun.objects.filter(pk__in=run_ids)
    run_by_account = {run.account_id: run for run in runs}
    return [
        AccountHealth(
            account=account,
            snapshot=history[account.pk][0] if history[account.pk] else None,
            history=list(reversed(history[account.pk])),
            last_run=run_by_account.get(account.pk),
        )
        for account in accounts
    ]


def kind_history(account_ids: Sequence[int]) -> dict[str, list[tuple[datetime.datetime, float]]]:
    """Per finding kind, counts over time from organisation snapshots, one point each (1 query)."""
    snapshots = HealthSnapshot.objects.filter(account_id__in=account_ids, vault__isnull=True).order_by("-taken_at")
    rows = list(snapshots.values_list("taken_at", "counts")[:TREND_POINTS])
    rows.reverse()
    series: dict[str, list[tuple[datetime.datetime, float]]] = defaultdict(list)
    for taken_at, counts in rows:
        for kind, _label in Finding.Kind.choices:
            series[kind].append((taken_at, float(_int((counts or {}).get(kind)))))
    return series


def worst_vaults(limit: int = 5) -> list[Vault]:
    """Live vaults with a score, lowest first (1 query)."""
    return list(
        vault_rows().filter(Q(score_value__isnull=False)).order_by("score_value", "name", "pk")[:limit]
    )
