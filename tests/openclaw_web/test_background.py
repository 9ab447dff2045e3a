"""Tasks on background threads when no broker is configured (openclaw_web/background.py), and the
fragments that report their progress: the Sync page, the plan page's execution box and a report's
artifact row. "Queued", "Running", "Finished" or "Failed: reason", each when true."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from celery.result import AsyncResult, EagerResult
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from compliance import audit
from compliance.reports.models import ReportArtifact
from openclaw_web import background, dispatch
from tests.conftest import RunningWorker
from tests.vaults.cleanup.conftest import FakeOrg, approved_plan, fake_org  # noqa: F401 (fixture)
from vaults.cleanup import plans
from vaults.cleanup.models import CleanupPlan, ProposedAction
from vaults.models import Account, Item, SyncRun

HTMX = {"HX-Request": "true"}
Status = ProposedAction.Status


# --- where a task runs ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_with_background_on_a_task_runs_on_a_background_thread_after_send_returns(settings: Any) -> None:
    settings.TASKS_IN_BACKGROUND = True
    account = Account.objects.create(name="background")
    release = threading.Event()
    # The pool's threads are busy until released: the task cannot have run when `send` returns.
    blockers = [background._executor().submit(release.wait, 10) for _ in range(background.MAX_THREADS)]
    sent = dispatch.send("vaults.tasks.compute_findings_task", account.pk)
    assert isinstance(sent, Future)
    account.refresh_from_db()
    assert account.findings_computed_at is None
    release.set()
    for blocker in blockers:
        blocker.result(timeout=10)
    sent.result(timeout=60)
    account.refresh_from_db()
    assert account.findings_computed_at is not None


@pytest.mark.django_db
def test_with_background_off_a_task_runs_inline_before_send_returns(settings: Any) -> None:
    """The test run and management commands (TASKS_IN_BACKGROUND false): Celery's eager apply."""
    settings.TASKS_IN_BACKGROUND = False
    account = Account.objects.create(name="inline")
    sent = dispatch.send("vaults.tasks.compute_findings_task", account.pk)
    assert isinstance(sent, EagerResult)
    account.refresh_from_db()
    assert account.findings_computed_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_failing_background_task_marks_its_row_failed_and_the_pool_keeps_working(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.TASKS_IN_BACKGROUND = True
    monkeypatch.delenv("OC_NO_SUCH_TOKEN", raising=False)
    account = Account.objects.create(name="no token", token_env="OC_NO_SUCH_TOKEN")
    run = SyncRun.objects.create(account=account)
    dispatch.send("vaults.tasks.sync_account_task", run.pk).result(timeout=60)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
    assert "OC_NO_SUCH_TOKEN" in run.error
    healthy = Account.objects.create(name="next")
    dispatch.send("vaults.tasks.compute_findings_task", healthy.pk).result(timeout=60)
    healthy.refresh_from_db()
    assert healthy.findings_computed_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_sync_in_the_background_runs_its_follow_ups_inline_on_the_same_thread(
    fake_org: FakeOrg,  # noqa: F811
    settings: Any,
) -> None:
    """`.delay()` and `dispatch` inside a background task do not go back to the pool: the findings
    are recomputed before the sync's own task returns."""
    settings.TASKS_IN_BACKGROUND = True
    Account.objects.filter(pk=fake_org.account.pk).update(findings_computed_at=None)
    run = SyncRun.objects.create(account=fake_org.account)
    assert dispatch.send("vaults.tasks.sync_account_task", run.pk).result(timeout=120) is not None
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    account = Account.objects.get(pk=fake_org.account.pk)
    assert account.findings_computed_at is not None and account.findings_computed_at >= run.finished_at


@pytest.mark.worker
def test_with_a_broker_tasks_go_to_celery_not_to_the_thread_pool(celery_worker: RunningWorker, settings: Any) -> None:
    """Decoy: TASKS_IN_BACKGROUND left on, but a broker is configured (the app is not eager)."""
    settings.TASKS_IN_BACKGROUND = True
    account = Account.objects.create(name="via broker")
    assert not dispatch.runs_in_background()
    sent = dispatch.send("vaults.tasks.compute_findings_task", account.pk)
    assert isinstance(sent, AsyncResult) and not isinstance(sent, EagerResult)
    sent.get(timeout=60)
    account.refresh_from_db()
    assert account.findings_computed_at is not None
    assert "vaults.tasks.compute_findings_task" in celery_worker.log()


def test_settings_run_tasks_in_the_background_only_in_a_server_without_a_broker(tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT

    probe = "import json, django; django.setup(); from django.conf import settings; print(json.dumps(settings.TASKS_IN_BACKGROUND))"
    env = {**os.environ, "OPENCLAW_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "openclaw_web.settings"}
    for name in ("CELERY_BROKER_URL", "TASKS_IN_BACKGROUND"):
        env.pop(name, None)

    def setting(extra: dict[str, str]) -> bool:
        done = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, env={**env, **extra}, capture_output=True,
                              text=True, timeout=60, check=True)  # fmt: skip
        return bool(json.loads(done.stdout.strip().splitlines()[-1]))

    assert setting({}) is True  # a server process (gunicorn, runserver) with no broker
    assert setting({"CELERY_BROKER_URL": "redis://127.0.0.1:1/0"}) is False
    assert setting({"TASKS_IN_BACKGROUND": "0"}) is False


# --- the Sync page's progress fragment --------------------------------------------------------


@pytest.fixture
def admin_client(admin_user: User, client_for: Callable[[User], Client]) -> Client:
    return client_for(admin_user)


def _sync_fragment(client: Client, run: SyncRun | None = None) -> Any:
    query = f"?run={run.pk}" if run else ""
    return client.get(reverse("sync:status") + query, headers=HTMX)


@pytest.mark.django_db
def test_sync_fragment_says_queued_then_running_with_its_phase_and_keeps_polling(admin_client: Client) -> None:
    account = Account.objects.create(name="Acme")
    run = SyncRun.objects.create(account=account)
    response = _sync_fragment(admin_client, run)
    assert response.status_code == 200
    assert 'data-sync-state="queued"' in response.text and "Queued" in response.text
    SyncRun.objects.filter(pk=run.pk).update(
        status=SyncRun.Status.RUNNING, phase="permissions", started_at=timezone.now()
    )
    response = _sync_fragment(admin_client, run)
    assert response.status_code == 200
    assert 'data-sync-state="running"' in response.text and "phase: permissions" in response.text
    assert "Finished" not in response.text


@pytest.mark.django_db
def test_sync_fragment_ends_at_finished_once_findings_are_recomputed_and_then_stops_polling(
    admin_client: Client,
) -> None:
    now = timezone.now()
    account = Account.objects.create(name="Acme")
    run = SyncRun.objects.create(account=account, status=SyncRun.Status.SUCCEEDED, started_at=now - timedelta(seconds=17),
                                 finished_at=now, counts={"vaults_changed": 2, "items_fetched": 1})  # fmt: skip
    response = _sync_fragment(admin_client, run)
    # Finished, but the findings are not recomputed yet: keeps polling, and says so.
    assert response.status_code == 200
    assert 'data-sync-state="finished"' in response.text and "Updating findings" in response.text
    assert "in 17 s" in response.text
    Account.objects.filter(pk=account.pk).update(findings_computed_at=now + timedelta(seconds=1))
    response = _sync_fragment(admin_client, run)
    assert response.status_code == 286
    assert "Finished" in response.text and "Findings are up to date." in response.text


@pytest.mark.django_db
def test_sync_fragment_says_failed_with_the_reason(admin_client: Client) -> None:
    now = timezone.now()
    run = SyncRun.objects.create(account=Account.objects.create(name="Acme"), status=SyncRun.Status.FAILED,
                                 started_at=now, finished_at=now, error="The token expired.")  # fmt: skip
    response = _sync_fragment(admin_client, run)
    assert response.status_code == 286
    assert 'data-sync-state="failed"' in response.text and "Failed: The token expired." in response.text


@pytest.mark.django_db
def test_sync_fragment_shows_no_outcome_card_for_a_finished_run_nobody_watches(admin_client: Client) -> None:
    """Decoy: an old finished run is a table row, not a "Finished" card, and nothing polls."""
    now = timezone.now()
    SyncRun.objects.create(account=Account.objects.create(name="Acme"), status=SyncRun.Status.SUCCEEDED,
                           started_at=now, finished_at=now)  # fmt: skip
    response = _sync_fragment(admin_client)
    assert response.status_code == 286
    assert "data-sync-state" not in response.text
    page = admin_client.get(reverse("sync:status"))
    assert 'hx-trigger="every 2s"' not in page.text


@pytest.mark.django_db
def test_sync_page_polls_the_watched_run_and_refuses_a_malformed_one(admin_client: Client) -> None:
    run = SyncRun.objects.create(account=Account.objects.create(name="Acme"))
    page = admin_client.get(reverse("sync:status") + f"?run={run.pk}")
    assert f'hx-get="{reverse("sync:status")}?run={run.pk}" hx-trigger="every 2s"' in page.text
    assert admin_client.get(reverse("sync:status") + "?run=abc").status_code == 400


@pytest.mark.django_db
def test_sync_now_redirects_to_the_page_that_follows_the_new_run(admin_client: Client, settings: Any) -> None:
    settings.TASKS_IN_BACKGROUND = False
    account = Account.objects.create(name="Acme", token_env="OC_NO_SUCH_TOKEN")
    response = admin_client.post(reverse("sync:sync_now", args=[account.pk]))
    run = SyncRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{reverse('sync:status')}?run={run.pk}"


# --- the plan page's execution box ------------------------------------------------------------


def _plan_with_actions(fake_org: FakeOrg, team_lead: User, approvers: list[User], n: int = 2) -> CleanupPlan:  # noqa: F811
    items = list(Item.objects.filter(vault__account=fake_org.account).order_by("pk")[:n])
    specs = [plans.ActionSpec(ProposedAction.Kind.SET_TAGS, i.vault, item=i, params={"tags": ["x"]}) for i in items]
    return approved_plan(account=fake_org.account, proposer=team_lead, approvers=approvers, specs=specs)


def _progress(client: Client, plan: CleanupPlan) -> Any:
    return client.get(reverse("cleanup:plan_progress", args=[plan.pk]), headers=HTMX)


@pytest.mark.django_db
def test_execution_box_goes_queued_running_finished(
    fake_org: FakeOrg, team_lead: User, approver: User, second_approver: User, client_for: Callable[[User], Client],  # noqa: F811
) -> None:  # fmt: skip
    plan = _plan_with_actions(fake_org, team_lead, [approver, second_approver])
    client = client_for(approver)
    # Never requested: no box on the plan page, the fragment is empty.
    assert "plan-execution" not in client.get(reverse("cleanup:plan", args=[plan.pk])).text
    first, second = plan.actions.order_by("position", "pk")
    audit.record(
        "cleanup.plan.execution_requested", actor=approver, target=plan, details={"actions": [first.pk, second.pk]}
    )

    response = _progress(client, plan)
    assert response.status_code == 200 and 'data-execution-state="queued"' in response.text
    assert "hx-trigger" in response.text and "0 of 2 actions run" in response.text
    assert 'data-execution-state="queued"' in client.get(reverse("cleanup:plan", args=[plan.pk])).text

    ProposedAction.objects.filter(pk=first.pk).update(status=Status.EXECUTING)
    response = _progress(client, plan)
    assert response.status_code == 200 and 'data-execution-state="running"' in response.text
    # Between two actions nothing is executing, and the run is still under way.
    ProposedAction.objects.filter(pk=first.pk).update(status=Status.DONE)
    response = _progress(client, plan)
    assert 'data-execution-state="running"' in response.text and "1 of 2 actions run" in response.text

    ProposedAction.objects.filter(pk=second.pk).update(status=Status.DONE)
    CleanupPlan.objects.filter(pk=plan.pk).update(executed_at=timezone.now())
    response = _progress(client, plan)
    assert response.status_code == 286
    assert 'data-execution-state="finished"' in response.text and ">Finished<" in response.text
    # Its last answer reloads the plan body once (every action's row), and polls no more.
    assert 'hx-target="#plan-body"' in response.text and 'hx-trigger="every 2s"' not in response.text


@pytest.mark.django_db
def test_execution_box_says_failed_with_the_actions_reason(
    fake_org: FakeOrg, team_lead: User, approver: User, second_approver: User, client_for: Callable[[User], Client],  # noqa: F811
) -> None:  # fmt: skip
    plan = _plan_with_actions(fake_org, team_lead, [approver, second_approver], n=1)
    action = plan.actions.get()
    audit.record("cleanup.plan.execution_requested", actor=approver, target=plan, details={"actions": [action.pk]})
    ProposedAction.objects.filter(pk=action.pk).update(status=Status.FAILED, error="op: item not found")
    CleanupPlan.objects.filter(pk=plan.pk).update(executed_at=timezone.now())
    response = _progress(client_for(approver), plan)
    assert response.status_code == 286
    assert 'data-execution-state="failed"' in response.text and "Failed: op: item not found" in response.text


@pytest.mark.django_db
def test_an_earlier_execution_does_not_make_a_new_request_look_finished(
    fake_org: FakeOrg, team_lead: User, approver: User, second_approver: User, client_for: Callable[[User], Client],  # noqa: F811
) -> None:  # fmt: skip
    """Decoy: `executed_at` from a previous run is older than the new request: still queued."""
    plan = _plan_with_actions(fake_org, team_lead, [approver, second_approver], n=1)
    CleanupPlan.objects.filter(pk=plan.pk).update(executed_at=timezone.now() - timedelta(hours=1))
    action = plan.actions.get()
    audit.record("cleanup.plan.execution_requested", actor=approver, target=plan, details={"actions": [action.pk]})
    response = _progress(client_for(approver), plan)
    assert response.status_code == 200 and 'data-execution-state="queued"' in response.text


@pytest.mark.django_db
def test_execute_redirects_to_the_execution_box(
    fake_org: FakeOrg, team_lead: User, approver: User, second_approver: User, client_for: Callable[[User], Client],  # noqa: F811
) -> None:  # fmt: skip
    plan = _plan_with_actions(fake_org, team_lead, [approver, second_approver], n=1)
    response = client_for(approver).post(reverse("cleanup:execute", args=[plan.pk]))
    assert response.status_code == 302 and response["Location"].endswith(f"/cleanup/{plan.pk}/#plan-execution")


# --- a report's artifact row ------------------------------------------------------------------


@pytest.mark.django_db
def test_artifact_row_polls_while_queued_or_running_and_stops_when_done(
    compliance_officer: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(compliance_officer)
    artifact = ReportArtifact.objects.create(kind="soc2", period="2026Q1", format="pdf", generator=compliance_officer)
    for status in (ReportArtifact.Status.QUEUED, ReportArtifact.Status.RUNNING):
        ReportArtifact.objects.filter(pk=artifact.pk).update(status=status)
        text = client.get(reverse("reports:artifact", args=[artifact.pk]), headers=HTMX).text
        assert f'data-artifact-status="{status}"' in text and 'hx-trigger="every 2s"' in text
    ReportArtifact.objects.filter(pk=artifact.pk).update(status=ReportArtifact.Status.FAILED, error="Render timed out.")
    text = client.get(reverse("reports:artifact", args=[artifact.pk]), headers=HTMX).text
    assert 'data-artifact-status="failed"' in text and "Render timed out." in text and "hx-trigger" not in text


# --- SQLite: a background thread and a request writing at once ---------------------------------


def test_two_threads_writing_the_audit_log_on_sqlite_neither_fails_nor_forks_the_chain(tmp_path: Path) -> None:
    """WAL and IMMEDIATE transactions (settings.py): the second writer waits for the first instead
    of failing with "database is locked", and the hash chain stays one line."""
    import json
    import os
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT

    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}", "OPENCLAW_VAR_DIR": str(tmp_path),
           "DJANGO_SETTINGS_MODULE": "openclaw_web.settings"}  # fmt: skip
    env.pop("CELERY_BROKER_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "tests.sqlite_concurrency"], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"errors": [], "entries": 50, "chain_ok": True}


@pytest.mark.django_db
def test_an_execution_nobody_moved_for_the_stall_limit_says_interrupted_and_stops_polling(
    fake_org: FakeOrg, team_lead: User, approver: User, second_approver: User, client_for: Callable[[User], Client],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """A stopped demo server (or a killed worker) takes the execution with it: the box must not
    say "Queued" for ever. The audit row of the request cannot be backdated, so the limit moves."""
    from vaults.cleanup import progress

    plan = _plan_with_actions(fake_org, team_lead, [approver, second_approver], n=1)
    action = plan.actions.get()
    audit.record("cleanup.plan.execution_requested", actor=approver, target=plan, details={"actions": [action.pk]})
    client = client_for(approver)
    # Decoy: just requested, within the limit: queued and polling.
    assert 'data-execution-state="queued"' in _progress(client, plan).text

    monkeypatch.setattr(progress, "STALLED_AFTER", timedelta(0))
    response = _progress(client, plan)
    assert response.status_code == 286 and 'data-execution-state="interrupted"' in response.text
    assert "Press Execute again" in response.text and 'hx-trigger="every 2s"' not in response.text

    # Decoy: an action that started a moment ago is activity, so a limit of a minute keeps it running.
    monkeypatch.setattr(progress, "STALLED_AFTER", timedelta(minutes=1))
    ProposedAction.objects.filter(pk=action.pk).update(status=Status.EXECUTING, started_at=timezone.now())
    assert 'data-execution-state="running"' in _progress(client, plan).text


@pytest.mark.django_db
def test_a_report_render_nobody_finished_says_interrupted_and_stops_polling(compliance_officer, client_for):
    lost = ReportArtifact.objects.create(kind="soc2", period="2026Q3", format="pdf", generator_label="x")
    fresh = ReportArtifact.objects.create(kind="soc2", period="2026Q3", format="pdf", generator_label="x")
    ReportArtifact.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(hours=1))
    client = client_for(compliance_officer)

    lost_row = client.get(reverse("reports:artifact", args=[lost.pk])).text
    fresh_row = client.get(reverse("reports:artifact", args=[fresh.pk])).text

    assert "Interrupted" in lost_row and "hx-trigger" not in lost_row
    assert "Queued" in fresh_row and "hx-trigger" in fresh_row  # decoy: still waiting its turn
