"""Run every finding rule for one account and reconcile the results with stored findings.

`compute_findings` is what the sync (after a successful run), the `compute_findings` command and
the benchmark call. One transaction:
1. Lock the account row so two runs for one account cannot interleave.
2. Decide what this run recomputes (vaults/findings/incremental.py): everything on a first run, a
   policy or rule change; otherwise only the findings the logged changes and the clock can move.
   Run each rule module over its reach; every rule returns candidates computed by set-based
   queries.
3. Load the identity columns (kind, key, status, digest) of the stored findings in reach: a
   finding out of reach is neither read nor written, and stays as it is.
4. New candidates are bulk-inserted with first_seen = now.
5. Stored findings still present and unchanged are not written at all: they were seen by this
   run, which `Account.findings_computed_at` records once (see `Finding.last_seen_at`). A changed
   one is rewritten; a resolved one reopens; an accepted one whose `accepted_until` passed
   reopens; an accepted one still in date stays accepted.
6. Stored findings no longer present are resolved (resolved_at = now, last_seen = the previous
   run, the last that saw them).
7. Related items (duplicate groups) are rewritten for new and changed findings only.
8. The status history (vaults/findings/status_history.py) gets a span for every new finding and
   every one whose status or severity changed (reopened, expired, resolved, re-rated); an
   unchanged finding gets none.
9. Health snapshots for the organisation and every vault (vaults/findings/health.py).
10. The run's state (when, judged by what) for the next run's decision in step 2.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from openclaw_web import dispatch
from vaults.findings import (
    access_end_date,
    duplicate,
    emergency,
    expiring,
    incremental,
    metadata,
    naming,
    orphaned,
    over_permissioned,
    reused_secret,
    rotation,
    shared_environments,
    status_history,
    weak,
)
from vaults.findings import counts as finding_counts
from vaults.findings.any_of import AnyOf
from vaults.findings.candidate import Candidate, PolicyScope, local_date, policy_scopes
from vaults.findings.health import take_snapshots
from vaults.findings.id_chunks import chunks
from vaults.findings.incremental import FULL, Reach
from vaults.findings.models import SEVERITY_RANK, Finding
from vaults.models import Account, SyncRun

ALERTS_TASK = "compliance.alerts.tasks.evaluate_alerts_task"

K = Finding.Kind


@dataclass(frozen=True)
class Rule:
    """A rule module, the kinds it produces and what its reach is made of (incremental.plan)."""

    name: str
    find: Callable[..., list[Candidate]]
    kinds: tuple[str, ...]
    by_fingerprint: bool = False  # the reach lists fingerprints (else item ids, or whole)


RULES: tuple[Rule, ...] = (
    Rule("duplicate", duplicate.find, (K.DUPLICATE,), by_fingerprint=True),
    Rule("reused_secret", reused_secret.find, (K.REUSED_SECRET,), by_fingerprint=True),
    Rule("weak", weak.find, (K.WEAK,)),
    Rule("rotation", rotation.find, (K.OVERDUE_ROTATION, K.ROTATION_DUE_SOON)),
    Rule("orphaned", orphaned.find, (K.ORPHANED,)),
    Rule("over_permissioned", over_permissioned.find, (K.OVER_PERMISSIONED,)),
    Rule("naming", naming.find, (K.UNCLEAR_NAME,)),
    Rule("metadata", metadata.find, (K.MISSING_METADATA,)),
    Rule("expiring", expiring.find, (K.EXPIRING,)),
    Rule("shared_environments", shared_environments.find, (K.SHARED_ACROSS_ENVIRONMENTS,), by_fingerprint=True),
    Rule("emergency", emergency.find, (K.EMERGENCY_REASON_MISSING, K.EMERGENCY_ROTATION_LATE)),
    Rule("access_end_date", access_end_date.find, (K.ACCESS_PAST_END_DATE,)),
)
assert tuple(r.name for r in RULES) == incremental.RULE_NAMES

# Rows per INSERT/UPDATE statement. PostgreSQL caps a statement at 65,535 parameters and old
# SQLite builds at 999 variables per statement; 500 rows x 20 columns stays under the first and
# Django splits further for SQLite by itself. Measured on the 100k-item bench: 500 and 2,000
# were within 3% of each other.
BATCH = 500


class StoredFinding(NamedTuple):
    pk: int
    status: str
    severity: str
    digest: str
    accepted_until: datetime.date | None


@dataclass
class FindingsSummary:
    account: str
    computed_at: datetime.datetime
    present: dict[str, int] = field(default_factory=dict)  # kind -> findings present now
    open: dict[str, int] = field(default_factory=dict)  # kind -> present and open (not accepted)
    created: int = 0
    updated: int = 0
    reopened: int = 0
    resolved: int = 0
    acceptances_expired: int = 0
    score: int | None = None
    full: bool = True  # False: an incremental run (vaults/findings/incremental.py)
    reason: str = ""


def _finding_from(candidate: Candidate, *, account: Account, now: datetime.datetime, digest: str) -> Finding:
    return Finding(
        account=account,
        kind=candidate.kind,
        key=candidate.key,
        first_seen=now,
        last_seen=now,
        status=Finding.Status.OPEN,
        digest=digest,
        **_content(candidate),
    )


_COPY_COLUMNS = (
    "account_id", "kind", "key", "first_seen", "last_seen", "status", "digest", "severity", "severity_rank", "title",
    "explanation", "recommended_action", "search_text", "details", "vault_id", "item_id", "op_user_id",
    "accepted_reason",
)  # fmt: skip


def _insert(new: list[tuple[Candidate, str]], *, account: Account, now: datetime.datetime) -> None:
    """Insert new findings. On PostgreSQL through COPY: the first run over 100k items creates
    ~130k findings, and COPY took 1.5 s where bulk_create took 20 s (bench/bench_findings.py),
    most of it building model instances. Elsewhere (the SQLite demo, a few hundred rows)
    bulk_create."""
    if not new:
        return
    if connection.vendor != "postgresql":
        Finding.objects.bulk_create(
            [_finding_from(c, account=account, now=now, digest=d) for c, d in new], batch_size=BATCH
        )
        return
    from psycopg.types.json import Jsonb

    table = Finding._meta.db_table
    columns = ", ".join(f'"{c}"' for c in _COPY_COLUMNS)
    with connection.cursor() as cursor:
        raw = cursor.cursor  # Django's wrapper around the psycopg cursor
        with raw.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
            for c, digest in new:
                copy.write_row(
                    (account.pk, c.kind, c.key, now, now, Finding.Status.OPEN.value, digest, c.severity,
                     SEVERITY_RANK[c.severity], c.title, c.explanation, c.recommended_action, c.search_text,
                     Jsonb(c.details), c.vault_id, c.item_id, c.op_user_id, "")
                )  # fmt: skip


_UPDATE_COLUMNS = (
    ("severity", "text"), ("severity_rank", "smallint"), ("title", "text"), ("explanation", "text"),
    ("recommended_action", "text"), ("search_text", "text"), ("details", "jsonb"), ("vault_id", "bigint"),
    ("item_id", "bigint"), ("op_user_id", "bigint"), ("digest", "text"),
)  # fmt: skip


def _update(changed: list[tuple[int, Candidate, str]], *, now: datetime.datetime) -> None:
    """Rewrite the content of changed findings. On PostgreSQL: COPY into a temporary table and
    one UPDATE ... FROM, because bulk_update builds a CASE per column per row and took minutes
    for 130k rows (a release that rewords explanations changes every finding). Elsewhere
    bulk_update, fine at demo sizes."""
    if not changed:
        return
    if connection.vendor != "postgresql":
        rows = [Finding(pk=pk, digest=digest, last_seen=now, **_content(c)) for pk, c, digest in changed]
        Finding.objects.bulk_update(rows, CONTENT_FIELDS, batch_size=BATCH)
        return
    from psycopg.types.json import Jsonb

    table = Finding._meta.db_table
    definition = ", ".join(f"{name} {kind}" for name, kind in _UPDATE_COLUMNS)
    assignments = ", ".join(f"{name} = u.{name}" for name, _ in _UPDATE_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS pg_temp.finding_update")
        cursor.execute(f"CREATE TEMPORARY TABLE finding_update (id bigint PRIMARY KEY, {definition}) ON COMMIT DROP")
        with cursor.cursor.copy("COPY finding_update FROM STDIN") as copy:
            for pk, c, digest in changed:
                copy.write_row(
                    (pk, c.severity, SEVERITY_RANK[c.severity], c.title, c.explanation, c.recommended_action,
                     c.search_text, Jsonb(c.details), c.vault_id, c.item_id, c.op_user_id, digest)
                )  # fmt: skip
        cursor.execute(
            f'UPDATE "{table}" AS f SET {assignments}, last_seen = %s FROM finding_update AS u WHERE f.id = u.id',  # noqa: S608 — constant names
            [now],
        )
        cursor.execute("DROP TABLE finding_update")


def _content(candidate: Candidate) -> dict[str, Any]:
    return {
        "severity": candidate.severity,
        "severity_rank": SEVERITY_RANK[candidate.severity],
        "title": candidate.title,
        "explanation": candidate.explanation,
        "recommended_action": candidate.recommended_action,
        "search_text": candidate.search_text,
        "details": candidate.details,
        "vault_id": candidate.vault_id,
        "item_id": candidate.item_id,
        "op_user_id": candidate.op_user_id,
    }


CONTENT_FIELDS = [
    "severity", "severity_rank", "title", "explanation", "recommended_action", "search_text", "details",
    "vault", "item", "op_user", "digest", "last_seen",
]  # fmt: skip


def collect_candidates(
    *,
    account: Account,
    now: datetime.datetime,
    scopes: list[PolicyScope] | None = None,
    reach: dict[str, Reach] | None = None,
) -> dict[tuple[str, str], Candidate]:
    """Candidates of every rule within its reach (default: everything)."""
    scopes = scopes if scopes is not None else policy_scopes(account)
    memo: dict[str, Any] = {}  # one fingerprint grouping for the three group rules
    found: dict[tuple[str, str], Candidate] = {}
    for rule in RULES:
        rule_reach = reach[rule.name] if reach is not None else FULL
        if not rule_reach.runs:
            continue
        subjects = None if rule_reach.full else rule_reach.subjects
        scoped = {"fingerprints": subjects} if rule.by_fingerprint else {"items": subjects}
        for candidate in rule.find(account=account, now=now, scopes=scopes, memo=memo, **scoped):
            found[(candidate.kind, candidate.key)] = candidate
    return found


def _stored_in_reach(account: Account, reach: dict[str, Reach]) -> dict[tuple[str, str], StoredFinding]:
    """Identity columns of the stored findings the run's reach covers (step 3)."""
    columns = ("id", "kind", "key", "status", "severity", "digest", "accepted_until")
    stored: dict[tuple[str, str], StoredFinding] = {}

    def keep(rows: Any, fingerprints: frozenset[str] | None = None) -> None:
        for pk, kind, key, status, severity, digest, accepted_until in rows:
            if fingerprints is None or incremental.fingerprint_of_key(key) in fingerprints:
                stored[(kind, key)] = StoredFinding(pk, status, severity, digest, accepted_until)

    findings = Finding.objects.filter(account=account)
    for rule in RULES:
        rule_reach = reach[rule.name]
        of_rule = findings.filter(kind__in=rule.kinds)
        if rule_reach.full:
            keep(of_rule.values_list(*columns))
        elif rule.by_fingerprint and rule_reach.subjects:
            keep(of_rule.values_list(*columns), rule_reach.subjects)
        elif rule_reach.subjects:
            keys = sorted(f"item:{pk}" for pk in rule_reach.subjects)
            for chunk in chunks(keys):
                keep(of_rule.filter(AnyOf(F("key"), chunk)).values_list(*columns))
    return stored


def _replace_related_items(finding_ids_to_items: dict[int, tuple[int, ...]], *, clear: list[int]) -> None:
    through = Finding.related_items.through
    for chunk in chunks(clear):
        through.objects.filter(finding_id__in=chunk).delete()
    rows = [through(finding_id=fid, item_id=iid) for fid, items in finding_ids_to_items.items() for iid in items]
    through.objects.bulk_create(rows, batch_size=BATCH * 4)


@transaction.atomic
def compute_findings(
    *, account: Account, now: datetime.datetime | None = None, sync_run: SyncRun | None = None
) -> FindingsSummary:
    """Recompute every finding of `account` as of `now` (default: the current time); see the
    module docstring for the steps."""
    now = now or timezone.now()
    today = local_date(now)
    locked = Account.objects.select_for_update().only("findings_computed_at").get(pk=account.pk)
    if connection.vendor == "postgresql":
        # The rules group ~110k secret fields by fingerprint; with the default 4 MB PostgreSQL
        # sorted them on disk instead of hashing in memory. For this transaction only.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '64MB'")
    previous_run = locked.findings_computed_at
    scopes = policy_scopes(account)
    signature = incremental.signature(account=account, now=now, scopes=scopes)
    changes = incremental.claim_changes(account=account, now=now, previous_run=previous_run, signature=signature)
    summary = FindingsSummary(account=account.name, computed_at=now, full=changes.full, reason=changes.reason)
    reach = incremental.plan(changes, account=account, now=now, scopes=scopes)

    candidates = collect_candidates(account=account, now=now, scopes=scopes, reach=reach)
    stored = _stored_in_reach(account, reach)

    new: list[tuple[Candidate, str]] = []
    touched_ids: list[int] = []
    changed: list[tuple[int, Candidate, str]] = []
    changed_related: dict[int, tuple[int, ...]] = {}
    reopen_ids: list[int] = []
    expire_ids: list[int] = []
    rerated_ids: list[int] = []
    for identity, candidate in candidates.items():
        digest = candidate.digest()
        row = stored.get(identity)
        if row is None:
            new.append((candidate, digest))
            continue
        touched_ids.append(row.pk)
        if row.status == Finding.Status.RESOLVED:
            reopen_ids.append(row.pk)
        elif row.status == Finding.Status.ACCEPTED and row.accepted_until and row.accepted_until < today:
            expire_ids.append(row.pk)
        if row.digest != digest:
            changed.append((row.pk, candidate, digest))
            changed_related[row.pk] = candidate.related_item_ids
            if candidate.severity != row.severity:
                rerated_ids.append(row.pk)

    # An acceptance ends with its date whether or not its finding is in reach: one out of reach is
    # present and unchanged, so it reopens exactly as a full run would reopen it.
    in_reach = {row.pk for row in stored.values()}
    expire_ids.extend(
        pk
        for pk in Finding.objects.filter(
            account=account, status=Finding.Status.ACCEPTED, accepted_until__lt=today
        ).values_list("pk", flat=True)
        if pk not in in_reach
    )

    _insert(new, account=account, now=now)
    _update(changed, now=now)
    for chunk in chunks(reopen_ids):
        Finding.objects.filter(pk__in=chunk).update(status=Finding.Status.OPEN, resolved_at=None, last_seen=now)
    for chunk in chunks(expire_ids):
        Finding.objects.filter(pk__in=chunk).update(status=Finding.Status.OPEN)

    # Accepted findings that are not present now resolve like any other; so do expired ones.
    present_ids = set(touched_ids)
    gone_ids = [
        row.pk for row in stored.values() if row.status != Finding.Status.RESOLVED and row.pk not in present_ids
    ]
    resolution: dict[str, Any] = {"status": Finding.Status.RESOLVED, "resolved_at": now}
    if previous_run is not None:  # the last run that saw them; before any run, last_seen is exact
        resolution["last_seen"] = Greatest("last_seen", Value(previous_run))
    for chunk in chunks(gone_ids):
        Finding.objects.filter(pk__in=chunk).update(**resolution)
    status_history.record_new(account=account, first_seen=now)
    status_history.record(finding_ids=[*reopen_ids, *expire_ids, *rerated_ids, *gone_ids], at=now)

    grouped_new = {(c.kind, c.key): c.related_item_ids for c, _ in new if c.related_item_ids}
    related: dict[int, tuple[int, ...]] = {}
    if grouped_new:
        kinds = sorted({kind for kind, _ in grouped_new})
        for kind, key, pk in Finding.objects.filter(account=account, kind__in=kinds, first_seen=now).values_list(
            "kind", "key", "id"
        ):
            if (kind, key) in grouped_new:
                related[pk] = grouped_new[(kind, key)]
    related.update({fid: items for fid, items in changed_related.items()})
    _replace_related_items(related, clear=list(changed_related))

    summary.created = len(new)
    summary.updated = len(changed)
    summary.reopened = len(reopen_ids)
    summary.resolved = len(gone_ids)
    summary.acceptances_expired = len(expire_ids)
    # Present and open per kind, counted over the table (an incremental run holds only its reach),
    # by the GROUP BY the health snapshots and the pages' counts are made of: one scan, not two.
    groups = finding_counts.group_counts(account)
    for group in (g for g in groups if not g.spanning):
        summary.present[group.kind] = summary.present.get(group.kind, 0) + group.n
        if group.status == Finding.Status.OPEN:
            summary.open[group.kind] = summary.open.get(group.kind, 0) + group.n
    Account.objects.filter(pk=account.pk).update(findings_computed_at=now)
    account.findings_computed_at = now
    incremental.save_state(account=account, now=now, signature=signature)
    snapshots = take_snapshots(account=account, now=now, sync_run=sync_run, groups=groups)
    summary.score = snapshots[0].score if snapshots else None
    # Alert rules read the findings and scores just written: evaluated once they are committed.
    dispatch.after_commit(ALERTS_TASK, account.pk)
    return summary
