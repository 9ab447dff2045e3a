"""Health score: 0-100 for the organisation and for each vault, every lost point traceable.

Formula (also in docs/health-score.md and templates/findings/_how_computed.html):

1. Only **open** findings cost points. Accepted risks (until their expiry date) and resolved
   findings cost nothing.
2. Each open finding weighs by severity: high = 10, medium = 4, low = 1.
3. Per finding kind k, the weighted count W_k is normalised by the size of the scope:
   D = active items in the scope for item kinds (duplicate groups included), or people with
   access to the scope for over_permissioned. Density d_k = W_k / max(D, 1).
4. Each kind can cost at most its cap C_k (caps sum to 100); it costs
   lost_k = C_k x min(1, d_k). The cap is reached when, say, one item in ten has a high finding of
   that kind, or every item has a low one.
5. score = round(100 - sum of lost_k), between 0 and 100.
6. Bands: >= 90 healthy, 60-89 needs attention, < 60 at risk.

A finding belongs to the vault of its item; a duplicate or shared-secret group to every vault
holding one of its items; an over-permissioned user to every vault named in its reasons.
"""

from __future__ import annotations

import datetime
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.db.models import Count

from vaults.access import access_pairs
from vaults.findings import counts
from vaults.findings.candidate import active_items
from vaults.findings.models import Finding, HealthSnapshot
from vaults.models import Account, SyncRun, Vault

SEVERITY_WEIGHT: dict[str, int] = {Finding.Severity.HIGH: 10, Finding.Severity.MEDIUM: 4, Finding.Severity.LOW: 1}

# Points each kind can cost at most; they sum to 100. Secrets that leak or are guessable first,
# then who can reach them, then hygiene that only slows a response down.
KIND_CAP: dict[str, int] = {
    # Copies (7) and one secret reused by several services (8) shared the old duplicate's 15.
    Finding.Kind.DUPLICATE: 7,
    Finding.Kind.REUSED_SECRET: 8,
    Finding.Kind.WEAK: 15,
    Finding.Kind.OVER_PERMISSIONED: 15,
    Finding.Kind.SHARED_ACROSS_ENVIRONMENTS: 10,
    Finding.Kind.OVERDUE_ROTATION: 10,
    Finding.Kind.ORPHANED: 10,
    Finding.Kind.UNCLEAR_NAME: 8,
    Finding.Kind.MISSING_METADATA: 7,
    Finding.Kind.EXPIRING: 5,
    Finding.Kind.ROTATION_DUE_SOON: 5,
}
assert sum(KIND_CAP.values()) == 100  # the formula relies on it

# Kinds counted per person rather than per item: normalised by people with access.
PER_PERSON_KINDS = frozenset({Finding.Kind.OVER_PERMISSIONED})

HEALTHY_FROM = 90
NEEDS_ATTENTION_FROM = 60


class Band:
    HEALTHY = "healthy"
    NEEDS_ATTENTION = "needs-attention"
    AT_RISK = "at-risk"

    LABELS = {HEALTHY: "Healthy", NEEDS_ATTENTION: "Needs attention", AT_RISK: "At risk"}


def band(score: int) -> str:
    if score >= HEALTHY_FROM:
        return Band.HEALTHY
    if score >= NEEDS_ATTENTION_FROM:
        return Band.NEEDS_ATTENTION
    return Band.AT_RISK


@dataclass(frozen=True)
class PenaltyLine:
    kind: str
    findings: int
    weighted: int
    cap: int
    points_lost: float  # rounded to 0.1 for display; the score uses the exact value

    @property
    def label(self) -> str:
        return Finding.Kind(self.kind).label


@dataclass(frozen=True)
class HealthScore:
    score: int
    items: int
    people: int
    lines: tuple[PenaltyLine, ...] = field(default_factory=tuple)

    @property
    def band(self) -> str:
        return band(self.score)

    @property
    def band_label(self) -> str:
        return Band.LABELS[self.band]

    @property
    def points_lost(self) -> int:
        return 100 - self.score

    def penalties(self) -> dict[str, float]:
        return {line.kind: line.points_lost for line in self.lines}

    def counts(self) -> dict[str, int]:
        return {line.kind: line.findings for line in self.lines}


# counts[kind][severity] -> number of open findings
SeverityCounts = Mapping[str, Mapping[str, int]]


def score_from(counts: SeverityCounts, *, items: int, people: int) -> HealthScore:
    """The formula of the module docstring over open-finding counts of one scope."""
    lines = []
    total_lost = 0.0
    for kind, cap in KIND_CAP.items():
        by_severity = counts.get(kind, {})
        findings = sum(by_severity.values())
        weighted = sum(SEVERITY_WEIGHT[sev] * n for sev, n in by_severity.items())
        size = people if kind in PER_PERSON_KINDS else items
        lost = cap * min(1.0, weighted / max(size, 1))
        total_lost += lost
        if findings:
            lines.append(PenaltyLine(kind=kind, findings=findings, weighted=weighted, cap=cap, points_lost=round(lost, 1)))
    score = max(0, min(100, math.floor(100 - total_lost + 0.5)))
    lines.sort(key=lambda line: -line.points_lost)
    return HealthScore(score=score, items=items, people=people, lines=tuple(lines))


def _open_counts_by_vault(groups: Sequence[counts.Group]) -> dict[int | None, dict[str, dict[str, int]]]:
    """Open-finding counts per vault (None = organisation), per kind and severity: a vault's own
    findings and the vault-less ones (groups spanning vaults, people) that name it, as the
    run's GROUP BY counted them (vaults/findings/counts.py), the figures the vault list shows."""
    by_vault: dict[int | None, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    for group in groups:
        if group.status != Finding.Status.OPEN:
            continue
        if not group.spanning:
            by_vault[None][group.kind][group.severity] += group.n
        if group.vault_id is not None:
            by_vault[group.vault_id][group.kind][group.severity] += group.n
    return by_vault


def compute_health(*, account: Account, groups: Sequence[counts.Group] | None = None) -> dict[int | None, HealthScore]:
    """Health of the organisation (key None) and of every present vault, from stored findings
    (counted now unless the caller passes the run's `groups`)."""
    by_vault = _open_counts_by_vault(counts.group_counts(account) if groups is None else groups)
    items_by_vault = dict(active_items(account).values("vault_id").annotate(n=Count("id")).values_list("vault_id", "n"))
    people_by_vault: dict[int, set[int]] = defaultdict(set)
    for user_id, vault_id in access_pairs(account):
        people_by_vault[vault_id].add(user_id)
    everyone = set().union(*people_by_vault.values()) if people_by_vault else set()
    result: dict[int | None, HealthScore] = {
        None: score_from(by_vault.get(None, {}), items=sum(items_by_vault.values()), people=len(everyone)),
    }
    for vault_id in Vault.objects.filter(account=account, removed_at__isnull=True).values_list("pk", flat=True):
        result[vault_id] = score_from(
            by_vault.get(vault_id, {}), items=items_by_vault.get(vault_id, 0), people=len(people_by_vault.get(vault_id, ()))
        )
    return result


def take_snapshots(
    *,
    account: Account,
    now: datetime.datetime,
    sync_run: SyncRun | None = None,
    groups: Sequence[counts.Group] | None = None,
) -> list[HealthSnapshot]:
    """Write one snapshot for the organisation (first in the result) and one per vault, and
    replace the account's finding counts (vaults/findings/counts.py): the pages' aggregates,
    written in the run's transaction from the one GROUP BY the scores are computed from (`groups`
    when the caller counted them already, after its last write to the findings)."""
    groups = counts.group_counts(account) if groups is None else groups
    counts.replace(account=account, groups=groups)
    snapshots = [
        HealthSnapshot(
            account=account,
            vault_id=vault_id,
            taken_at=now,
            sync_run=sync_run,
            score=health.score,
            items=health.items,
            counts=health.counts(),
            penalties=health.penalties(),
        )
        for vault_id, health in compute_health(account=account, groups=groups).items()
    ]
    return HealthSnapshot.objects.bulk_create(snapshots, batch_size=500)


def latest_snapshot(*, account: Account, vault: Vault | None = None) -> HealthSnapshot | None:
    return HealthSnapshot.objects.filter(account=account, vault=vault).order_by("-taken_at", "-pk").first()
