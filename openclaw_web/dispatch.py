"""The one place domain code hands work to Celery: tasks are sent by name, after commit.

Domain modules (sync, findings, cleanup, reviews, reports) must not import the task modules
that wrap them (tasks import the domain, never the other way: docs/architecture.md). They call
`after_commit("vaults.tasks.sync_account_task", run.pk)` instead. The task module is imported
here at send time so its `@shared_task` is registered in a web process too; `apply_async` on
the registered task (not `Celery.send_task`) keeps `CELERY_TASK_ALWAYS_EAGER` working.

Where a task runs:
1. A broker is configured: a Celery worker (the app is not eager).
2. No broker, TASKS_IN_BACKGROUND (the demo server): a thread of this process
   (openclaw_web/background.py), so the request returns at once and the page polls the job's row.
3. No broker otherwise (the test run, management commands), or sent from a background task:
   inline, before `send` returns.
"""

from __future__ import annotations

import importlib
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction

from openclaw_web import background


class UnknownTask(LookupError):
    """A task name that no task module registers: a typo here must fail loudly, not queue nothing."""


def task_named(name: str) -> Any:
    module, _, _ = name.rpartition(".")
    try:
        importlib.import_module(module)
        return current_app.tasks[name]
    except (ImportError, KeyError, ValueError) as error:
        raise UnknownTask(f"No Celery task is registered as {name!r}.") from error


def runs_in_background() -> bool:
    """Whether a task sent now goes to this process's background threads (case 2 above)."""
    eager = bool(current_app.conf.task_always_eager)
    return eager and settings.TASKS_IN_BACKGROUND and not background.running_here()


def send(name: str, *args: Any, **options: Any) -> Any:
    """Send now (inside a task, or where no transaction holds the rows the task reads)."""
    task = task_named(name)
    if runs_in_background():
        return background.submit(task, args, options)
    return task.apply_async(args=args, **options)


def after_commit(name: str, *args: Any, **options: Any) -> None:
    """Send once the current transaction commits, so the worker reads committed rows; the name
    is checked now, so a typo fails in the request that made it."""
    task_named(name)
    transaction.on_commit(lambda: send(name, *args, **options))
