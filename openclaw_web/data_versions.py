"""Versions of the data the cached page fragments show, read in one query per request.

A fragment (openclaw_web/fragment_cache.py) is stored under the versions of what it shows, so it
is served again until one of the writes that change that data moves a version. A version moves in
the same transaction as its write, or after the write commits, never before: a request that reads
a new version then reads the new data too. A request that reads an old version may render newer
data under it, which is harmless (nobody reads the old version once the new one is committed).

What moves which version (every source is a column its write already sets, or one counter):
- **findings**, per account: `Account.findings_computed_at`, set in the findings run's own
  transaction (new and resolved findings, titles, severities, expired acceptances, snapshots and
  scores). The only other writer of findings is a person's decision (accept, reopen): audited.
- **inventory**, per account: when the newest of its last syncs finished (items, vaults, people,
  groups, grants, usage: a sync's imports show when the sync ends, not item by item, so a running
  sync leaves the cache alone), `permissions_synced_at`, the Events API cursors (usage), the name.
- **policy**: how many policy rows there are and the newest `updated_at`.
- **people**: a counter moved with every audit-log entry of a change a person (or a worker on a
  person's behalf) makes: accepting a risk, reopening, a vault's classification or owner, cleanup
  proposals and executions, tickets. Invariant 6 says every such change writes an audit entry in
  its transaction, so `compliance.audit.record` moves the counter (`note_audited_action`) and no
  write path can forget it. Entries that change nothing a page shows — the API's per-call entries
  (the busiest writer of the log), sign-ins, downloads, exports — leave it alone.

Not versions, so they never empty the cache: audit rows of reads, sessions, a running sync's
heartbeat and counters (the dashboard's "Last sync" card is rendered per request), other
databases on the same server.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.db import connection
from django.db.models import F

from openclaw_web.models import DataVersion

PEOPLE = "people"

# Audit actions that change nothing a cached fragment shows. Anything else moves the counter, so
# a new kind of change shows at once without touching this list.
_READ_ONLY_PREFIXES = ("api.", "auth.", "sync.started")
_READ_ONLY_SUFFIXES = (".downloaded", ".exported", ".requested", ".generated", ".delivered")

# A sync run that finishes is among the account's newest few (one sync of an account runs at a
# time; queued ones wait behind it), so its finish is seen without reading every old run.
RECENT_RUNS = 5


def changes_data(action: str) -> bool:
    return not (action.startswith(_READ_ONLY_PREFIXES) or action.endswith(_READ_ONLY_SUFFIXES))


def note_audited_action(action: str) -> None:
    """Move the people counter for an audited change. Called inside the audit entry's
    transaction (under the audit log's lock, so two writers never race on the row)."""
    if not changes_data(action):
        return
    if not DataVersion.objects.filter(name=PEOPLE).update(version=F("version") + 1):
        DataVersion.objects.create(name=PEOPLE, version=1)


@dataclass(frozen=True)
class DataVersions:
    people: int
    policy: str
    accounts: dict[int, str]  # account id -> its findings and inventory versions

    def key(self, *, account: int | None = None) -> str:
        """The versions a fragment shows: every account's, or one account's (a vault page)."""
        accounts = self.accounts if account is None else {account: self.accounts.get(account, "")}
        raw = json.dumps([self.people, self.policy, sorted(accounts.items())])
        return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _query() -> str:
    from vaults.findings.models import Policy
    from vaults.models import Account, SyncRun

    account, run = Account._meta.db_table, SyncRun._meta.db_table
    policy, counter = Policy._meta.db_table, DataVersion._meta.db_table
    # One row whatever the number of accounts; each part an index lookup or a few-row table.
    return f"""
        SELECT
          (SELECT version FROM {counter} WHERE name = %s),
          (SELECT concat(count(*), '/', max(updated_at)) FROM {policy}),
          (SELECT json_agg(json_build_array(a.id, concat_ws('|',
              a.findings_computed_at, a.permissions_synced_at, md5(a.events_cursors::text), a.name,
              (SELECT max(r.finished_at) FROM (SELECT finished_at FROM {run} WHERE account_id = a.id
                                               ORDER BY id DESC LIMIT {RECENT_RUNS}) r))))
           FROM {account} a)
    """  # noqa: S608 — table names from the models, values as parameters


def read() -> DataVersions | None:
    """The current versions, or None where fragments are not cached: off SQLite (the demo runs
    there with one process per command, no shared cache to keep right) and inside a transaction,
    where a rolled-back write could leave a fragment under a version a later write reuses."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return None
    with connection.cursor() as cursor:
        cursor.execute(_query(), [PEOPLE])
        people, policy, accounts = cursor.fetchone()
    if isinstance(accounts, str):  # psycopg returns json already decoded; be safe either way
        accounts = json.loads(accounts)
    return DataVersions(
        people=int(people or 0),
        policy=str(policy),
        accounts={int(pk): str(parts) for pk, parts in accounts or []},
    )
