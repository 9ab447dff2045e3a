"""Enqueueing by name after commit: the one door domain code uses to reach Celery."""

from __future__ import annotations

from typing import Any

import pytest
from celery import current_app

from openclaw_web import dispatch
from vaults.models import Account, SyncRun


def test_unknown_task_name_fails_at_the_call() -> None:
    with pytest.raises(dispatch.UnknownTask, match=r"vaults\.tasks\.no_such_task"):
        dispatch.after_commit("vaults.tasks.no_such_task", 1)
    with pytest.raises(dispatch.UnknownTask):
        dispatch.send("no_module_at_all.task", 1)


def test_task_named_registers_the_task_module() -> None:
    task = dispatch.task_named("compliance.reports.tasks.render_xlsx_task")
    assert task.name == "compliance.reports.tasks.render_xlsx_task"
    assert current_app.tasks[task.name] is task


@pytest.mark.django_db
def test_sent_only_when_the_transaction_commits(django_capture_on_commit_callbacks: Any) -> None:
    """Eager (the embedded default): the task runs in-process, but only once the rows it reads
    are committed; nothing runs while the transaction is open."""
    account = Account.objects.create(name="dispatch")
    run = SyncRun.objects.create(account=account, status=SyncRun.Status.FAILED, error="kept")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        dispatch.after_commit("vaults.tasks.compute_findings_task", account.pk, run.pk)
    assert len(callbacks) == 1
    assert not account.findings_computed_at
    callbacks[0]()
    account.refresh_from_db()
    assert account.findings_computed_at is not None
