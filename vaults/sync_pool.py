"""One pool for every `op` call of a sync, so no phase waits for the last call of another.

Before, listings, item details and permission reads ran one phase after another, each in its own
pool: every phase ended with fewer calls in flight than OP_CONCURRENCY (its tail), and permission
reads waited for the last detail to be stored. Here a job is queued with a priority and a free
thread always takes the most urgent job queued at that moment, whenever it was added:
listings first (each one opens a vault's detail reads), then item details (long calls), then
permission reads (short calls that fill the tail).

Only `op` (and its parsing, inside vaults/op/) runs in the threads; the caller consumes results
on its own thread and does every database write there, while the threads keep `op` busy.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

logger = logging.getLogger(__name__)

LISTING, DETAILS, PEOPLE = 0, 1, 2
# How long `results` waits for a result before calling `idle`: well inside the 10 minutes after
# which a silent sync counts as abandoned (vaults/sync.py STALE_AFTER).
IDLE_SECONDS = 60.0
# What a task returns when the pool stopped before it took a job: never handed to the caller.
_DROPPED = object()


class CallPool:
    def __init__(self, *, threads: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="op")
        self._queued: list[tuple[int, int, Callable[[], Any]]] = []
        self._order = itertools.count()
        self._lock = threading.Lock()
        self._futures: set[Future[Any]] = set()
        self._closed = False
        # Set when a job failed for good or the pool closed with jobs unfinished: the sync's op
        # client then starts no new op process (OpClient.stop_when).
        self.stopped = threading.Event()

    def add(self, priority: int, job: Callable[[], Any]) -> None:
        """Queue `job`; its result comes out of `results()`. Lower priority numbers go first,
        equal ones in the order they were added."""
        with self._lock:
            heapq.heappush(self._queued, (priority, next(self._order), job))
        # One task per job, but each runs whichever job is most urgent when a thread is free.
        self._futures.add(self._executor.submit(self._take_most_urgent))

    def results(self, *, idle: Callable[[], None] | None = None) -> Iterator[Any]:
        """Results in completion order, until no job is queued or running (jobs added while
        iterating are waited for too). A job's exception is raised here. `idle` is called on the
        caller's thread after every IDLE_SECONDS without a result: the sync records its
        heartbeat there, so one waiting on a slow or hung op never looks abandoned."""
        while self._futures:
            done, _ = wait(self._futures, timeout=IDLE_SECONDS, return_when=FIRST_COMPLETED)
            if not done and idle is not None:
                idle()
            for future in done:
                self._futures.discard(future)
                result = future.result()
                if result is not _DROPPED:
                    yield result

    def close(self, *, idle: Callable[[], None] | None = None) -> None:
        """Drop the queued jobs and wait for the running ones. After a call failed for good, only
        the calls already running finish, each bounded by its timeout: a stream of calls
        against a hanging `op` without a heartbeat would let the run look stale and be claimed
        by a second worker (tests/reliability/test_op_hang.py). While they finish, `idle` is
        called every IDLE_SECONDS, as in `results`."""
        with self._lock:
            self._closed = True
            self._queued.clear()
            running = set(self._futures)
            if running:  # stopped before every job ran: no waiting job may start op
                self.stopped.set()
        while running:
            _, running = wait(running, timeout=IDLE_SECONDS)
            if running and idle is not None:
                idle()
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _take_most_urgent(self) -> Any:
        with self._lock:
            if self._closed or not self._queued:
                return _DROPPED
            _, _, job = heapq.heappop(self._queued)
        try:
            return job()
        except BaseException as exc:
            # Failed for good (the client already retried): no thread takes another job, and no
            # job waiting for an op slot starts op, even before the caller has seen the exception
            # and closed the pool. Failures after the first are its consequences (OpStopped
            # among them): the first one is what the caller is told.
            with self._lock:
                first = not self._closed
                self._closed = True
            self.stopped.set()
            if first:
                raise
            # Only the type: op errors are already scrubbed, but a consequence needs no detail.
            logger.warning("sync call failed after the run had stopped: %s (not reported)", type(exc).__name__)
            return _DROPPED
