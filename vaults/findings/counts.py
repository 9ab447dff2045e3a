"""Counts of present findings kept beside them, so no page counts 134k rows on request (issue #17
item 2): open and accepted findings per account, vault, kind and severity (`FindingCount`).

A finding without a vault of its own (a group of items across vaults, a person's access) is
counted once in the account's rows (vault None) and once more, marked `spanning`, in each vault
its `details["vault_ids"]` names: a vault's score counts it (vaults/findings/health.py), so the
vault list's count must too. Totals over an account leave the spanning rows out.

Who writes them, always in the transaction that changes the findings, so a page never reads the
findings of one run with the counts of another:
1. the findings run (vaults/findings/health.py `take_snapshots`, the engine's last step) replaces an
   account's rows with one GROUP BY over its findings;
2. a person's decision (vaults/findings/acceptance.py) adds rows of -n and +n for the findings it
   moved between open and accepted, under the account's row lock, the lock the run takes, so the
   two never interleave. Rows add up; the next run compacts them.

Who reads them: the dashboard (open per kind), the vault list (open per vault) and the findings
list's total when it is filtered by nothing the counts do not hold (kind, severity, open or
accepted). Per-vault item counts and scores come from the run's health snapshots.

An account whose findings were never computed has no rows: its findings (made by fixtures or an
import, never by the engine) are counted live, by a count over such accounts that is empty, and
costs nothing, once every account has had a run; the findings list then counts as it did (capped).
Migration findings 0011 filled the table from the findings stored before it existed, and 0016
added the spanning rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from django.db.models import Case, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, When
from django.db.models.functions import Coalesce

from vaults.findings.id_chunks import chunks
from vaults.findings.models import Finding, FindingCount
from vaults.findings.vault_scope import listed_vault_ids, spanned_vaults
from vaults.models import Account

# The statuses counted: resolved findings grow without end and no page totals them.
COUNTED = (Finding.Status.OPEN, Finding.Status.ACCEPTED)


class Group(NamedTuple):
    vault_id: int | None
    kind: str
    severity: str
    status: str
    n: int
    spanning: bool = False  # a vault-less finding counted in a vault it names (module docstring)


def group_counts(account: Account) -> list[Group]:
    """The account's open and accepted findings counted per vault, kind, severity and status, and
    the vault-less ones once more per vault they name (2 queries; the second reads the few
    hundred findings without a vault)."""
    counted = Finding.objects.filter(account=account, status__in=COUNTED).order_by()
    rows = counted.values_list("vault_id", "kind", "severity", "status").annotate(n=Count("*"))
    groups = [Group(*row) for row in rows]
    spanning: dict[tuple[int, str, str, str], int] = defaultdict(int)
    for kind, severity, status, listed in counted.filter(vault__isnull=True).values_list(
        "kind", "severity", "status", "details__vault_ids"
    ):
        for vault_id in listed_vault_ids(listed):
            spanning[(vault_id, kind, severity, status)] += 1
    groups.extend(Group(vault_id, kind, severity, status, n, spanning=True)
                  for (vault_id, kind, severity, status), n in spanning.items())  # fmt: skip
    return groups


def replace(*, account: Account, groups: Sequence[Group]) -> None:
    """The findings run's write: the account's rows become `groups`, one row per group. Only the
    groups whose rows differ are rewritten (a decision's -n/+n rows are compacted): a 1% recompute
    at 100,000 items changes a few of ~2,000 rows, and deleting and inserting them all cost ~170 ms."""
    wanted = {(g.vault_id, g.kind, g.severity, g.status, g.spanning): g.n for g in groups if g.n}
    stored: dict[tuple[int | None, str, str, str, bool], list[tuple[int, int]]] = defaultdict(list)
    for pk, vault_id, kind, severity, status, spanning, n in FindingCount.objects.filter(account=account).values_list(
        "pk", "vault_id", "kind", "severity", "status", "spanning", "n"
    ):
        stored[(vault_id, kind, severity, status, spanning)].append((pk, n))
    kept = {key for key, rows in stored.items() if len(rows) == 1 and rows[0][1] == wanted.get(key)}
    stale = [pk for key, rows in stored.items() if key not in kept for pk, _ in rows]
    for chunk in chunks(stale):
        FindingCount.objects.filter(pk__in=chunk).delete()
    FindingCount.objects.bulk_create(
        [FindingCount(account=account, vault_id=key[0], kind=key[1], severity=key[2], status=key[3], spanning=key[4], n=n)
         for key, n in wanted.items() if key not in kept],
        batch_size=1000,
    )  # fmt: skip


def lock_accounts(account_ids: Iterable[int]) -> None:
    """Wait for any findings run (or another decision) of these accounts to commit: the run's
    GROUP BY must not miss, nor count twice, a decision's change. In id order, so two decisions
    over the same accounts cannot deadlock."""
    ids = sorted(set(account_ids))
    if ids:
        list(Account.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))


def record_moves(findings: Iterable[Finding], *, before: str, after: str) -> None:
    """Findings that moved from status `before` to `after` (the caller holds `lock_accounts`)."""
    moved: dict[tuple[int, int | None, str, str, bool], int] = defaultdict(int)
    for finding in findings:
        moved[(finding.account_id, finding.vault_id, finding.kind, finding.severity, False)] += 1
        for spanned in spanned_vaults(finding):
            moved[(finding.account_id, spanned, finding.kind, finding.severity, True)] += 1
    rows = []
    for (account_id, vault_id, kind, severity, spanning), n in moved.items():
        common = {"account_id": account_id, "vault_id": vault_id, "kind": kind, "severity": severity,
                  "spanning": spanning}
        if before in COUNTED:
            rows.append(FindingCount(status=before, n=-n, **common))
        if after in COUNTED:
            rows.append(FindingCount(status=after, n=n, **common))
    FindingCount.objects.bulk_create(rows, batch_size=1000)


# --- reads ------------------------------------------------------------------------------------


def _uncounted() -> QuerySet[Finding]:
    """Findings of accounts never computed: no rows hold them. The accounts are read first (a
    few rows): joined, PostgreSQL scanned all 134k findings to find none (240 ms,
    bench/bench_aggregates.py); by id, none at all."""
    never = list(Account.objects.filter(findings_computed_at__isnull=True).values_list("pk", flat=True))
    if not never:
        return Finding.objects.none()
    return Finding.objects.filter(account_id__in=never).order_by()


def _counted_rows() -> QuerySet[FindingCount]:
    """Rows that sum to account totals: a spanning row repeats a vault-less finding per vault."""
    return FindingCount.objects.filter(account__findings_computed_at__isnull=False, spanning=False).order_by()


def open_by_kind() -> dict[str, int]:
    """Open findings per kind over every account (2 queries over a few hundred rows)."""
    totals: dict[str, int] = defaultdict(int)
    for kind, n in _counted_rows().filter(status=Finding.Status.OPEN).values_list("kind").annotate(n=Sum("n")):
        totals[kind] += n or 0
    for kind, n in _uncounted().filter(status=Finding.Status.OPEN).values_list("kind").annotate(n=Count("*")):
        totals[kind] += n
    return dict(totals)


def list_total(*, q: str = "", kind: str = "", severity: str = "", vault: object = None, status: str = "",
               **_: object) -> int | None:
    """The exact number of findings the list shows for these filters, or None when the counts
    cannot say: a search, a vault (which also takes group findings), resolved or any status, or
    matching findings of an account never computed."""
    status = status or Finding.Status.OPEN
    if q.strip() or vault is not None or status not in COUNTED:
        return None
    exact = Q(status=status)
    if kind:
        exact &= Q(kind=kind)
    if severity:
        exact &= Q(severity=severity)
    if _uncounted().filter(exact).exists():  # fixtures' findings: the list counts them, capped
        return None
    return int(_counted_rows().filter(exact).aggregate(n=Sum("n"))["n"] or 0)


def open_in_vault() -> Coalesce:
    """Open findings of the outer row's vault (a `Vault` queryset annotation), the ones its score
    counts: its own and the vault-less ones naming it. The vault's count rows summed, or, when
    its account was never computed (no score either), a live count of its own. PostgreSQL runs
    only the branch it needs, per vault."""
    summed = (
        FindingCount.objects.filter(vault=OuterRef("pk"), status=Finding.Status.OPEN).order_by()
        .values("vault").annotate(n=Sum("n")).values("n")
    )  # fmt: skip
    live = (
        Finding.objects.filter(vault=OuterRef("pk"), status=Finding.Status.OPEN).order_by()
        .values("vault").annotate(n=Count("*")).values("n")
    )  # fmt: skip
    chosen = Case(
        When(account__findings_computed_at__isnull=True, then=Subquery(live, output_field=IntegerField())),
        default=Subquery(summed, output_field=IntegerField()),
    )
    return Coalesce(chosen, 0, output_field=IntegerField())

