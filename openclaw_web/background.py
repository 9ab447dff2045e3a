"""Tasks on threads of the web process: the embedded default's worker (no broker configured).

Running a task inside the request that asked for it kept the person waiting (a demo sync took
17 s) and then told them it was "queued" after it had finished. Here the request returns at once
and the job's row (SyncRun, ProposedAction, ReportArtifact) tells the polling page how far it is,
as a Celery worker's would. openclaw_web/dispatch.py decides when to come here.

1. The pool starts with the first task, so a process that never sends one starts no thread.
2. A task sent from inside a background task runs inline on the same thread (`running_here`):
   a sync's follow-ups and a plan's verification sync keep their order, and a pool this small
   can never fill with tasks that wait for each other.
3. Each task closes its thread's database connections when it ends: Django opens one per thread
   and would otherwise keep them past CONN_MAX_AGE (on SQLite, a file handle each).
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from django.db import close_old_connections, connections

logger = logging.getLogger(__name__)

# Two: the demo host has 2 cores; a sync spends its time waiting on `op` (on threads of its own,
# OP_CONCURRENCY), and a second thread lets a report render meanwhile. A third task waits its turn.
MAX_THREADS = 2

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_state = threading.local()
_pending: set[Future[Any]] = set()


def running_here() -> bool:
    """True on a background thread while it runs a task."""
    return bool(getattr(_state, "running", False))


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=MAX_THREADS, thread_name_prefix="openclaw-task")
        return _pool


def submit(task: Any, args: tuple[Any, ...], options: dict[str, Any]) -> Future[Any]:
    """Queue a Celery task object to run on a background thread; returns at once."""
    future = _executor().submit(_run, task, args, options)
    with _pool_lock:
        _pending.add(future)
    future.add_done_callback(_forget)
    return future


def _forget(future: Future[Any]) -> None:
    with _pool_lock:
        _pending.discard(future)


def wait_until_idle(timeout: float) -> bool:
    """Wait for every task sent so far, and those they send, to end; False on timeout. A test's
    database goes away when it ends: no task of it may still be writing."""
    deadline = time.monotonic() + timeout
    while True:
        with _pool_lock:
            pending = list(_pending)
        if not pending:
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        wait(pending, timeout=remaining)


def _run(task: Any, args: tuple[Any, ...], options: dict[str, Any]) -> Any:
    _state.running = True
    close_old_connections()
    try:
        # `apply` runs the task here with Celery's own machinery: its on_failure marks the job
        # row failed, and `.delay()` inside it runs inline (CELERY_TASK_ALWAYS_EAGER).
        return task.apply(args=args, **options).get(propagate=False)
    except Exception:
        # Nobody waits on this thread: the row says "failed"; the log keeps the traceback.
        logger.exception("background task %s failed", task.name)
        return None
    finally:
        _state.running = False
        connections.close_all()
