"""One account's sync: vaults → changed vaults' items → changed items' details → permissions →
events. `vaults/tasks.py` only wraps `run_sync` for Celery; `manage.py sync` calls it directly.

The budget is 1Password's rate limit, counted in requests, so the sync does the least it can:
1. `op vault list` once; a vault whose `content_version` equals the one of its last complete
   listing is not listed again;
2. `op item list` only for changed vaults, `op item get` (by item id *and* vault id: 1 request)
   only for items that are new or whose `version` moved, OP_ITEM_BATCH items of a vault per
   `op item get -` process (the requests stay one per item; processes and sign-ins are saved);
3. users, groups and grants on their own, slower schedule (`PERMISSIONS_INTERVAL`);
4. the Events API from the stored cursors.
Steps 2 and 3 share one pool (`vaults/sync_pool.py`): OP_CONCURRENCY op calls stay in flight
from the first item list to the last grant read, while this thread stores what they return.

Failure keeps the last good state: nothing is deleted unless a listing succeeded, item details
are stored item by item as newer truths, permissions are swapped in one transaction, and a vault
is marked as listed only once all its changed items are stored — so the next run resumes.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from vaults import history, snapshot
from vaults.breakglass.track import track as breakglass_track
from vaults.events import EventsApiError, sync_events
from vaults.models import Account, Item, SecretField, SyncRun, Vault
from vaults.offboarding.after_sync import open_cases_after_sync
from vaults.op import ItemBatch, OpClient, OpError, OpNotFound, OpPermissionDenied, OpRateLimited
from vaults.op.fingerprint import KnownScores
from vaults.op_settings import op_client
from vaults.sync_pool import DETAILS, LISTING, PEOPLE, CallPool

logger = logging.getLogger(__name__)

PERMISSIONS_INTERVAL = timedelta(hours=6)
# A RUNNING run whose heartbeat is older than this lost its worker (SIGKILL, OOM, reboot): it may
# be claimed again, and resumes where the stored state says it stopped.
STALE_AFTER = timedelta(minutes=10)
DETAIL_BATCH = 100  # item details stored per transaction: one heartbeat and progress update each
# Threads beyond OP_CONCURRENCY: they parse (zxcvbn: ~5-13 ms of CPU per new secret, one at a time)
# while the OP_CONCURRENCY op slots (OpClient max_in_flight) stay busy. A batch of 100 items takes
# about a second to parse; with one such thread, a second batch ending meanwhile held its thread
# and left a slot idle (3.63 calls in flight of 4, 206 s for the 20,000-item first sync); with
# three, 3.91 and 189 s (bench/bench_sync.py). Op processes stay at the slots' number; once a call
# failed for good no waiting thread starts op (OpClient.stop_when), and the sync keeps its
# heartbeat while it waits (tests/reliability/test_op_hang.py).
PARSE_THREADS = 3
# Below this many remaining read requests a run does not start: it waits for the window.
MIN_READ_BUDGET = 10
ACTIVE = (SyncRun.Status.QUEUED, SyncRun.Status.RUNNING, SyncRun.Status.WAITING)


class SyncConfigurationError(Exception):
    """The account cannot be synced as configured; the message says what to set."""


class WaitForBudget(Exception):
    def __init__(self, until: datetime, reason: str) -> None:
        super().__init__(reason)
        self.until = until


@dataclass
class Progress:
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n


def start_sync(*, account: Account, scope: str = SyncRun.Scope.FULL, triggered_by: Any = None) -> tuple[SyncRun, bool]:
    """Queue a sync unless one is already under way; returns (run, to_dispatch). A run that was
    lost with its worker comes back as to dispatch: it must not block every later sync."""
    with transaction.atomic():
        Account.objects.select_for_update().get(pk=account.pk)
        active = SyncRun.objects.filter(account=account, status__in=ACTIVE).first()
        if active is not None:
            return active, is_abandoned(active)
        return SyncRun.objects.create(account=account, scope=scope, triggered_by=triggered_by), True


def is_abandoned(run: SyncRun, *, now: datetime | None = None) -> bool:
    """Queued or running with no sign of life for STALE_AFTER: its worker died (or the demo's
    server, whose in-process tasks die with it, was stopped). Handing it out again is safe:
    claim() lets exactly one worker have it, so a late first delivery does nothing."""
    cutoff = (now or timezone.now()) - STALE_AFTER
    if run.status == SyncRun.Status.RUNNING:
        return run.heartbeat_at is None or run.heartbeat_at < cutoff
    return run.status == SyncRun.Status.QUEUED and run.created_at < cutoff


def claim(sync_run_id: int, *, now: datetime | None = None) -> bool:
    """Move a run to RUNNING; False when another worker has it (or it is finished). A RUNNING
    run with a stale heartbeat was abandoned by a dead worker and may be claimed again."""
    now = now or timezone.now()
    claimable = Q(status__in=[SyncRun.Status.QUEUED, SyncRun.Status.WAITING]) | Q(
        status=SyncRun.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER
    )
    updated = SyncRun.objects.filter(claimable, pk=sync_run_id).update(
        status=SyncRun.Status.RUNNING, heartbeat_at=now, waiting_until=None, error=""
    )
    if updated:
        SyncRun.objects.filter(pk=sync_run_id, started_at__isnull=True).update(started_at=now)
    return bool(updated)


def client_for(account: Account) -> OpClient:
    token = os.environ.get(account.token_env, "")
    if not token:
        raise SyncConfigurationError(
            f"The worker has no token: set the environment variable {account.token_env} to the "
            f"account's service-account token (it is never stored in the database)."
        )
    # The sync's threads outnumber its op slots (PARSE_THREADS): the client keeps the slots.
    return op_client(token, max_in_flight=settings.OP_CONCURRENCY)


def run_sync(*, sync_run_id: int) -> SyncRun:
    """Run one claimed sync to its end: SUCCEEDED, WAITING (rate-limit window) or FAILED."""
    if not claim(sync_run_id):
        return SyncRun.objects.get(pk=sync_run_id)
    run = SyncRun.objects.select_related("account").get(pk=sync_run_id)
    progress = Progress(counts=dict(run.counts))
    client: OpClient | None = None
    sync: _Sync | None = None
    try:
        client = client_for(run.account)
        sync = _Sync(run=run, client=client, progress=progress)
        sync.run()
        # Only a successful sync's state becomes history: a failed one may hold half a listing.
        history.record_history(run.account, at=timezone.now())
    except WaitForBudget as wait_signal:
        _finish(run, client, progress, status=SyncRun.Status.WAITING, waiting_until=wait_signal.until, error=str(wait_signal))
    except OpRateLimited as exc:
        until = timezone.now() + timedelta(seconds=exc.retry_after_seconds or 3600)
        _finish(run, client, progress, status=SyncRun.Status.WAITING, waiting_until=until,
                error=f"1Password rate limit reached; resuming at {until:%H:%M} UTC.")
    except (OpError, SyncConfigurationError) as exc:
        hint = getattr(exc, "hint", "")
        _finish(run, client, progress, status=SyncRun.Status.FAILED, error=f"{exc}{' — ' + hint if hint and hint not in str(exc) else ''}")
    except Exception as exc:
        logger.exception("sync %s failed unexpectedly", sync_run_id)
        _finish(run, client, progress, status=SyncRun.Status.FAILED, error=f"Unexpected error ({type(exc).__name__}); see the worker log.")
        raise
    else:
        _finish(run, client, progress, status=SyncRun.Status.SUCCEEDED, error="\n".join(sync.warnings if sync else []))
        _open_offboarding_cases(run)
    return run


def _open_offboarding_cases(run: SyncRun) -> None:
    """Leavers this sync revealed get a case (vaults/offboarding/cases.py). After the run is
    recorded as succeeded: a problem here must not turn a good sync into a failed one."""
    try:
        open_cases_after_sync(run.account)
    except Exception:
        logger.exception("offboarding cases after sync %s not updated", run.pk)


def _finish(run: SyncRun, client: OpClient | None, progress: Progress, *, status: str,
            waiting_until: datetime | None = None, error: str = "") -> None:
    run.status = status
    run.waiting_until = waiting_until
    run.error = error[:4000]
    run.counts = progress.counts
    run.op_calls += client.calls if client else 0
    run.op_requests += client.requests if client else 0
    run.items_without_values = progress.counts.get("fields_without_value", 0)
    run.phase = "" if status != SyncRun.Status.WAITING else run.phase
    run.finished_at = timezone.now() if status in (SyncRun.Status.SUCCEEDED, SyncRun.Status.FAILED) else None
    run.save()


class _Sync:
    def __init__(self, *, run: SyncRun, client: OpClient, progress: Progress) -> None:
        self.run_row = run
        self.account = run.account
        self.client = client
        self.progress = progress
        self.concurrency = settings.OP_CONCURRENCY
        self.warnings: list[str] = []

    def run(self) -> None:
        self._check_budget()
        self._phase("vaults")
        now = timezone.now()
        self._record_own_identity()
        vaults = snapshot.apply_vault_list(account=self.account, records=self.client.vault_list(), now=now)
        self.progress.counts["vaults_total"] = len(vaults)
        changed = [v for v in vaults if v.listed_content_version != v.content_version or v.content_version == 0]
        self.progress.counts["vaults_changed"] = len(changed)
        with_people = self.run_row.scope == SyncRun.Scope.FULL or self._permissions_due(now)
        _Reading(self, people_of=vaults if with_people else None).run(changed)
        self._phase("events")
        try:
            summary = sync_events(account=self.account)
        except EventsApiError as exc:
            # Inventory and permissions are stored; usage data can catch up from the cursor.
            self.warnings.append(f"Events not read: {exc}")
            summary = None
        if summary is not None:
            self.progress.counts.update(item_usages=summary.item_usages, signin_attempts=summary.signin_attempts,
                                        audit_events=summary.audit_events)
        # Break-glass events from the uses just stored, and rotations from the items just read.
        breakglass_track(account=self.account)

    # --- phases ---------------------------------------------------------------------------------

    def _record_own_identity(self) -> None:
        """Store who the token is (`op whoami` user_uuid and type) so rules can leave the sync's
        own service account out. Asked once per account (whoami is a call like any other); an
        op 2.18 whoami without `user_uuid` is asked again next time."""
        if self.account.service_account_user_uuid:
            return
        who = self.client.whoami()
        if not who.user_id:
            return
        user_type = (who.user_type or "").upper()[:40]
        Account.objects.filter(pk=self.account.pk).update(
            service_account_id=who.user_id, service_account_user_uuid=who.user_id, service_account_user_type=user_type
        )
        self.account.service_account_id = self.account.service_account_user_uuid = who.user_id
        self.account.service_account_user_type = user_type

    def _check_budget(self) -> None:
        """`op service-account ratelimit` (no request cost) before spending anything."""
        try:
            rows = self.client.ratelimit()
        except (OpPermissionDenied, OpNotFound):
            return  # a person's session has no service-account limits to read
        for row in rows:
            if "read" in row.action and row.remaining < MIN_READ_BUDGET:
                until = timezone.now() + timedelta(seconds=row.reset_seconds or 3600)
                raise WaitForBudget(until, f"Only {row.remaining} {row.kind} read requests left; waiting for the window to reset at {until:%H:%M} UTC.")

    def _store_details(self, batch: list[tuple[Item, Any]]) -> None:
        if not batch:
            return
        without = snapshot.apply_item_details(details=batch, now=timezone.now())
        self.progress.add("items_fetched", len(batch))
        self.progress.add("fields_without_value", without)
        self._save_progress()

    def _permissions_due(self, now: datetime) -> bool:
        synced = self.account.permissions_synced_at
        return synced is None or now - synced >= PERMISSIONS_INTERVAL

    # --- plumbing -------------------------------------------------------------------------------

    def _phase(self, name: str) -> None:
        self.run_row.phase = name
        self._save_progress()

    def _save_progress(self) -> None:
        SyncRun.objects.filter(pk=self.run_row.pk).update(
            phase=self.run_row.phase, counts=self.progress.counts, heartbeat_at=timezone.now(),
            op_calls=self.run_row.op_calls + self.client.calls,
        )


def known_scores(account: Account) -> KnownScores:
    """The zxcvbn scores this account already stored, by fingerprint: a value read again (an item
    edited without a new secret, a run resumed, a secret reused) is not scored again. One query
    over the fingerprint index; on a first sync it is empty. Private keys and empty values store
    no score, so they are not here and are never given one."""
    rows = SecretField.objects.filter(
        item__vault__account=account, fingerprint__isnull=False, zxcvbn_score__isnull=False
    ).values_list("fingerprint", "zxcvbn_score")
    return KnownScores({fp: score for fp, score in rows.iterator(chunk_size=5000) if fp and score is not None})


class _Reading:
    """Every `op` read after the vault list, through one `CallPool`, and what they store.

    1. Item lists of the changed vaults, and (when due) users, groups and each vault's grants are
       queued at once; group members as soon as the groups are known.
    2. Each listing is stored when it arrives and its items to fetch are queued as batches of
       OP_ITEM_BATCH; details are stored DETAIL_BATCH at a time, while op keeps reading.
    3. When every call is done: a vault whose changed items were all stored is marked listed,
       and the permissions are swapped in one transaction.
    A call that fails for good stops the reading (queued calls are dropped); what was stored
    stays, and a vault not marked listed is listed again by the next run.
    """

    def __init__(self, sync: _Sync, *, people_of: list[Vault] | None) -> None:
        self.sync = sync
        self.known_scores = KnownScores()
        self.client = sync.client
        self.progress = sync.progress
        self.people_of = people_of
        self.pool = CallPool(threads=sync.concurrency + PARSE_THREADS)
        self.client.stop_when(self.pool.stopped)
        self.listed: list[Vault] = []
        self.failed_vaults: set[int] = set()
        self.details: list[tuple[Item, Any]] = []
        self.users: Any = ()
        self.groups: Any = ()
        self.members: dict[str, Any] = {}
        self.user_grants: dict[str, Any] = {}
        self.group_grants: dict[str, Any] = {}

    def run(self, changed: list[Vault]) -> None:
        self.sync._phase("items")
        self.progress.counts["items_to_fetch"] = 0
        if changed:
            self.known_scores = known_scores(self.sync.account)
        try:
            for vault in changed:
                self.pool.add(LISTING, partial(self._list_vault, vault))
            if self.people_of is not None:
                self.pool.add(PEOPLE, lambda: ("users", self.client.user_list()))
                self.pool.add(PEOPLE, lambda: ("groups", self.client.group_list()))
                for vault in self.people_of:
                    self.pool.add(PEOPLE, partial(self._read_grants, vault))
            for result in self.pool.results(idle=self.sync._save_progress):
                self._take(*result)
        finally:
            self.pool.close(idle=self.sync._save_progress)
        self.sync._store_details(self.details)
        for vault in self.listed:
            if vault.pk not in self.failed_vaults:
                Vault.objects.filter(pk=vault.pk).update(listed_content_version=vault.content_version)
        if self.people_of is not None:
            self.sync._phase("permissions")
            snapshot.apply_people(account=self.sync.account, users=self.users, groups=self.groups,
                                  members=self.members, user_grants=self.user_grants,
                                  group_grants=self.group_grants, now=timezone.now())
            self.progress.counts.update(users=len(self.users), groups=len(self.groups))

    # --- jobs (pool threads: op only) -----------------------------------------------------------

    def _list_vault(self, vault: Vault) -> tuple[str, Vault, Any]:
        try:
            return "listing", vault, self.client.item_list(vault.op_id)
        except OpNotFound:
            return "listing", vault, None  # deleted mid-sync: the next vault list drops it

    def _get_items(self, items: list[Item], vault_op_id: str) -> tuple[str, list[Item], ItemBatch]:
        ids = [item.op_id for item in items]
        return "details", items, self.client.item_get_batch(ids, vault_op_id, known_scores=self.known_scores)

    def _read_grants(self, vault: Vault) -> tuple[str, str, Any, Any]:
        try:
            return "grants", vault.op_id, self.client.vault_user_list(vault.op_id), self.client.vault_group_list(vault.op_id)
        except (OpPermissionDenied, OpNotFound):
            # A service account cannot read grants of vaults it has no manage right on: keep what
            # we knew, and say so.
            return "grants", vault.op_id, None, None

    # --- results (calling thread: database) -----------------------------------------------------

    def _take(self, kind: str, *result: Any) -> None:
        if kind == "listing":
            self._take_listing(*result)
        elif kind == "details":
            self._take_details(*result)
        elif kind == "users":
            (self.users,) = result
        elif kind == "groups":
            (self.groups,) = result
            for group in self.groups:
                self.pool.add(PEOPLE, partial(self._read_members, group.id))
        elif kind == "members":
            group_id, members = result
            self.members[group_id] = members
        elif kind == "grants":
            vault_op_id, users, groups = result
            if users is None:
                self.progress.add("vaults_grants_unreadable")
            else:
                self.user_grants[vault_op_id], self.group_grants[vault_op_id] = users, groups

    def _read_members(self, group_id: str) -> tuple[str, str, Any]:
        return "members", group_id, self.client.group_user_list(group_id)

    def _take_listing(self, vault: Vault, records: Any) -> None:
        if records is None:
            self.progress.add("vaults_vanished")
            return
        self.progress.add("vaults_listed")
        pending = snapshot.apply_item_listing(vault=vault, records=records, now=timezone.now())
        self.listed.append(vault)
        self.progress.add("items_to_fetch", len(pending))
        size = max(1, settings.OP_ITEM_BATCH)
        # `op item get -` reads one vault per call; listing order is kept.
        for start in range(0, len(pending), size):
            self.pool.add(DETAILS, partial(self._get_items, pending[start:start + size], vault.op_id))
        if pending and self.sync.run_row.phase != "item details":
            self.sync._phase("item details")
        else:
            self.sync._save_progress()

    def _take_details(self, items: list[Item], fetched: ItemBatch) -> None:
        self.progress.add("items_vanished", len(fetched.vanished))
        for item in items:
            detail = fetched.details.get(item.op_id)
            if detail is None:
                self.failed_vaults.add(item.vault_id)  # vanished mid-sync: list again next time
                continue
            self.details.append((item, detail))
            if len(self.details) >= DETAIL_BATCH:
                self.sync._store_details(self.details)
                self.details = []
