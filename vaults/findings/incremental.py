"""What changed since an account's last findings run, and whether this run may be incremental.

Migration findings 0012 makes PostgreSQL log, from triggers, every item whose own row, secret
fields, vault (name, classification, removal) or item-usage events changed, and every account
whose access inputs (grants, memberships, people, groups, vaults, usage) changed. A run:
1. computes the signature of what every finding was judged with that is not a row of those
   tables: the effective policies and their vaults, the usage coverage as the orphaned rule reads
   it, OpenClaw's own identity, and the rule code itself;
2. claims (deletes and reads, in its own transaction) the account's logged changes;
3. is full when there is no previous run, the previous run's state is missing or was written by
   another run (`computed_at` differs from `Account.findings_computed_at`), the signature
   differs, time went backwards, or the database is not PostgreSQL; otherwise incremental, over
   the claimed items plus what time alone moves (rotation.drifting_items, orphaned.drifting_items,
   expiring on a new day);
4. saves the new state with the run (same transaction: a rolled-back run leaves the log and the
   old state in place, and the next run sees both).
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.db import connection

from vaults.findings import duplicate, orphaned, over_permissioned, rotation
from vaults.findings.candidate import PolicyScope, local_date
from vaults.findings.models import Finding
from vaults.findings.sync_identity import sync_identity_op_id
from vaults.findings.usage_coverage import usage_coverage
from vaults.models import Account

RULE_NAMES = (
    "duplicate", "reused_secret", "weak", "rotation", "orphaned", "over_permissioned", "naming", "metadata",
    "expiring", "shared_environments", "emergency", "access_end_date",
)  # fmt: skip
GROUP_KINDS = (Finding.Kind.DUPLICATE, Finding.Kind.REUSED_SECRET, Finding.Kind.SHARED_ACROSS_ENVIRONMENTS)

# The modules whose code decides what a finding says: a release that changes one of them
# (a reworded explanation, a new condition) must recompute every finding, as before.
RULE_SOURCES = (
    "access_end_date.py", "any_of.py", "candidate.py", "copies.py", "duplicate.py", "emergency.py", "engine.py",
    "expiring.py", "incremental.py", "jsonsql.py", "metadata.py", "naming.py", "orphaned.py",
    "over_permissioned.py", "reused_secret.py", "rotation.py", "shared_environments.py", "weak.py",
)  # fmt: skip


@cache
def code_version() -> str:
    folder = Path(__file__).resolve().parent
    digest = hashlib.sha1(usedforsecurity=False)
    try:
        for name in RULE_SOURCES:
            digest.update((folder / name).read_bytes())
    except OSError:  # sources not shipped (bytecode only): unknown code, so every run is full
        return f"unknown-{id(digest)}"
    return digest.hexdigest()


def signature(*, account: Account, now: datetime.datetime, scopes: list[PolicyScope]) -> str:
    """Everything a finding depends on besides the logged rows and the clock (module docstring)."""
    coverage = usage_coverage(account)
    judged = [
        (repr(scope.policy), sorted(scope.vault_ids or ()), sorted(scope.excluded_vault_ids),
         coverage.covers(now - datetime.timedelta(days=scope.policy.orphan_days)))
        for scope in scopes
    ]  # fmt: skip
    body = repr((code_version(), judged, coverage.events_configured, coverage.since, sync_identity_op_id(account)))
    return hashlib.sha1(body.encode(), usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class Changes:
    """`full`: recompute everything. Otherwise `items` changed since `previous_run`, and
    `access` says whether the over-permissioned rule's inputs did."""

    full: bool
    reason: str
    previous_run: datetime.datetime | None = None
    items: frozenset[int] = frozenset()
    access: bool = False


def supported() -> bool:
    return connection.vendor == "postgresql"


def claim_changes(
    *, account: Account, now: datetime.datetime, previous_run: datetime.datetime | None, signature: str
) -> Changes:
    """Steps 2 and 3 of the module docstring. Claims the log even for a full run: a full run
    covers every change it holds."""
    if not supported():
        return Changes(full=True, reason="not PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM findings_changed_item WHERE account_id = %s RETURNING item_id", [account.pk])
        items = frozenset(row[0] for row in cursor.fetchall())
        cursor.execute("DELETE FROM findings_changed_access WHERE account_id = %s RETURNING 1", [account.pk])
        access = bool(cursor.fetchall())
        cursor.execute("SELECT computed_at, signature FROM findings_run_state WHERE account_id = %s", [account.pk])
        state = cursor.fetchone()
    if previous_run is None:
        return Changes(full=True, reason="first run")
    if state is None or state[0] != previous_run:
        return Changes(full=True, reason="no state of the previous run")
    if state[1] != signature:
        return Changes(full=True, reason="policy, usage coverage or rule code changed")
    if now < previous_run:
        return Changes(full=True, reason="run dated before the previous one")
    return Changes(full=False, reason="incremental", previous_run=previous_run, items=items, access=access)


def save_state(*, account: Account, now: datetime.datetime, signature: str) -> None:
    if not supported():
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO findings_run_state (account_id, computed_at, signature) VALUES (%s, %s, %s) "
            "ON CONFLICT (account_id) DO UPDATE SET computed_at = EXCLUDED.computed_at, signature = EXCLUDED.signature",
            [account.pk, now, signature],
        )


# Subjects per statement (`IN` list) before a rule simply runs whole: PostgreSQL binds at most
# 65,535 parameters, and beyond a fifth of the items a scoped query is no cheaper than the full one.
SCOPE_LIMIT = 20_000


@dataclass(frozen=True)
class Reach:
    """What one rule recomputes this run: everything (`full`), or only the findings of `subjects`
    (item ids, or fingerprints for the group rules); no subjects means the rule does not run."""

    full: bool
    subjects: frozenset[Any] = frozenset()

    @property
    def runs(self) -> bool:
        return self.full or bool(self.subjects)


FULL = Reach(full=True)
NOTHING = Reach(full=False)


def _reach(subjects: set[Any] | frozenset[Any]) -> Reach:
    return FULL if len(subjects) > SCOPE_LIMIT else Reach(full=False, subjects=frozenset(subjects))


def _group_members(account: Account) -> dict[str, set[int]]:
    """Fingerprint -> item ids of the present group findings (their `details.items` list every
    member: a duplicate its copies, a reused secret the whole group, so together all of them)."""
    members: dict[str, set[int]] = {}
    rows = (
        Finding.objects.filter(account=account, kind__in=GROUP_KINDS)
        .exclude(status=Finding.Status.RESOLVED)
        .values_list("key", "details__items")
    )
    for key, listed in rows:
        fingerprint = fingerprint_of_key(key)
        members.setdefault(fingerprint, set()).update(
            entry["id"] for entry in listed or [] if isinstance(entry, dict) and isinstance(entry.get("id"), int)
        )
    return members


def fingerprint_of_key(key: str) -> str:
    """`fp:<fingerprint>` or `fp:<fingerprint>:<first item>` (duplicate.find) -> the fingerprint."""
    return key.split(":")[1] if key.startswith("fp:") else ""


def plan(changes: Changes, *, account: Account, now: datetime.datetime, scopes: list[PolicyScope]) -> dict[str, Reach]:
    """Reach of every rule (keyed by module name) for this run:
    1. a full run: everything;
    2. the item rules: the changed items, plus what the clock moved (rotation, orphaned), and on a
       new day every expiring finding (its text counts the days);
    3. the group rules: every fingerprint a changed item holds now or a present group finding
       with a changed member had, so a member leaving a group recomputes the group it left;
    4. over-permissioned: whole when its inputs changed or a use passed its cut-off, else not;
    5. break-glass and access end dates: whole every run (a handful of rows, judged by the clock).
    """
    if changes.full or changes.previous_run is None:
        return dict.fromkeys(RULE_NAMES, FULL)
    since, items = changes.previous_run, set(changes.items)
    reach = {name: _reach(items) for name in ("weak", "naming", "metadata")}
    reach["rotation"] = _reach(items | rotation.drifting_items(account=account, since=since, now=now, scopes=scopes))
    reach["orphaned"] = _reach(items | orphaned.drifting_items(account=account, since=since, now=now, scopes=scopes))
    reach["expiring"] = FULL if local_date(now) != local_date(since) else _reach(items)
    fingerprints: set[str] = set()
    if items:
        fingerprints = duplicate.fingerprints_of_items(frozenset(items))
        fingerprints |= {fp for fp, members in _group_members(account).items() if members & items}
    for name in ("duplicate", "reused_secret", "shared_environments"):
        reach[name] = _reach(fingerprints)
    drifted = changes.access or over_permissioned.usage_drifted(account=account, since=since, now=now, scopes=scopes)
    reach["over_permissioned"] = FULL if drifted else NOTHING
    reach["emergency"] = reach["access_end_date"] = FULL
    assert set(reach) == set(RULE_NAMES), "every rule needs a reach"
    return reach


def forget(*, account: Account) -> None:
    """Drop the account's run state: its next run is full (tests; a recomputation on request)."""
    if not supported():
        return
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM findings_run_state WHERE account_id = %s", [account.pk])
