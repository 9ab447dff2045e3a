"""Buttons that start long work return at once, and the page they were pressed on follows the work
in place until it says "Finished" (issue 15, item 3).

1. The demo as `make demo` runs it: `manage.py runserver` on SQLite with no broker, its tasks on
   background threads (openclaw_web/background.py). The fake `op` answers slowly, so the sync
   outlasts the request by seconds; pages read and write meanwhile without "database is locked".
2. Plan execution and a PDF report on the live server with background threads on (PostgreSQL).
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from openclaw_web import background
from tests.conftest import REPO_ROOT
from tests.e2e.conftest import screenshot, sign_in
from tests.vaults.cleanup.conftest import FakeOrg, approved_plan, fake_org  # noqa: F401 (fixture)
from vaults.cleanup import plans
from vaults.cleanup.models import CleanupPlan, ProposedAction
from vaults.models import Item

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "correct horse battery staple 9"
DEMO_PASSWORD = "openclaw-demo"  # vaults/management/commands/demo.py
# Each fake `op` call sleeps this long in the server: the sync's ~20 calls on 4 threads then take
# several seconds, far longer than a request that only queues the sync.
SLOW_OP_MS = 1200


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class DemoServer:
    url: str
    database: Path
    log_path: Path

    def run_statuses(self) -> list[str]:
        """The SyncRun statuses straight from the demo's SQLite file (oldest first)."""
        with sqlite3.connect(self.database, timeout=30) as connection:
            return [row[0] for row in connection.execute("SELECT status FROM vaults_syncrun ORDER BY id")]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def sqlite_demo(tmp_path: Path) -> Iterator[DemoServer]:
    """scripts/demo.sh's steps, smaller: a fake organisation, migrate, `demo` (logins and a first
    sync, run inline by the command), then `runserver` with a slow fake `op`."""
    database = tmp_path / "demo.sqlite3"
    account = tmp_path / "fake-account.json"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "OPENCLAW_VAR_DIR": str(tmp_path), "DEBUG": "0",
           "HTTPS": "0", "ALLOWED_HOSTS": "127.0.0.1,localhost", "DJANGO_SETTINGS_MODULE": "openclaw_web.settings",
           "OP_BIN": str(REPO_ROOT / "bin" / "fake-op"), "FAKE_OP_ACCOUNT": str(account),
           "FAKE_OP_CALL_LOG": str(tmp_path / "op-calls.jsonl")}  # fmt: skip
    for name in ("CELERY_BROKER_URL", "CACHE_URL", "TASKS_IN_BACKGROUND", "EVENTS_API_URL", "FAKE_OP_LATENCY_MS"):
        env.pop(name, None)
    manage = [sys.executable, "manage.py"]

    def run(*args: str) -> None:
        done = subprocess.run([*manage, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"manage.py {args[0]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"

    run("demo_account", "--out", str(account), "--vaults", "8", "--items", "40", "--users", "12", "--groups", "6")
    env["OP_SERVICE_ACCOUNT_TOKEN"] = json.loads(account.read_text())["tokens"][0]["token"]
    run("migrate", "--noinput", "-v0")
    run("demo")
    port = _free_port()
    log_path = tmp_path / "runserver.log"
    with log_path.open("wb") as log_file:
        server = subprocess.Popen(
            [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=REPO_ROOT, env={**env, "FAKE_OP_LATENCY_MS": str(SLOW_OP_MS)},
            stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    demo = DemoServer(url=f"http://127.0.0.1:{port}", database=database, log_path=log_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"runserver did not start:\n{demo.log()[-4000:]}")
                time.sleep(0.2)
        yield demo
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_sync_now_on_the_sqlite_demo_returns_at_once_and_the_page_follows_it_to_finished(
    page: Any, sqlite_demo: DemoServer
) -> None:
    assert sqlite_demo.run_statuses() == ["succeeded"]  # the `demo` command's own sync, run inline
    sign_in(page, sqlite_demo.url, "admin", DEMO_PASSWORD)
    page.goto(f"{sqlite_demo.url}/sync/")

    # The POST runs the redirect's page too; all of it is back while the sync still runs.
    started = time.monotonic()
    page.click("button:has-text('Sync Acme Demo now')")
    page.wait_for_selector("[data-sync-state]")
    answered_in = time.monotonic() - started
    statuses = sqlite_demo.run_statuses()
    assert statuses[-1] in ("queued", "running"), statuses
    assert answered_in < 5, f"Sync now took {answered_in:.1f} s to answer"
    print(f"Sync now answered in {answered_in:.2f} s")  # the figure the lead reports (pytest -s)
    assert page.locator(".message").first.inner_text().startswith("Sync of Acme Demo queued")
    page.evaluate("window.__samePage = true")  # the redirect after the POST; gone if anything reloads
    screenshot(page, "background-01-sync-queued")

    # Meanwhile the demo serves other pages from the same SQLite file (WAL: reads never wait).
    other = page.context.new_page()
    for path in ("/", "/vaults/", "/findings/", "/sync/"):
        assert other.goto(f"{sqlite_demo.url}{path}").status == 200, path
    other.close()
    assert sqlite_demo.run_statuses()[-1] in ("queued", "running")
    page.wait_for_selector("[data-sync-state=running]", timeout=30_000)
    screenshot(page, "background-02-sync-running")

    # The same page, never reloaded, ends at "Finished" and then stops polling.
    page.wait_for_selector("[data-sync-state=finished]", timeout=90_000)
    assert "Finished" in page.locator("[data-sync-state=finished]").inner_text()
    print(f"the sync finished {time.monotonic() - started:.1f} s after the click")
    page.wait_for_selector("text=Findings are up to date.", timeout=60_000)
    assert page.evaluate("window.__samePage") is True
    assert sqlite_demo.run_statuses() == ["succeeded", "succeeded"]
    # Polling has stopped (the fragment answered 286): no request for it in the next 2 periods.
    polls: list[str] = []
    page.on("request", lambda request: polls.append(request.url) if "/sync/" in request.url else None)
    page.wait_for_timeout(4_500)
    assert polls == []
    screenshot(page, "background-03-sync-finished")
    assert "database is locked" not in sqlite_demo.log()
    assert page.js_errors == []


@pytest.fixture
def background_tasks(settings: Any) -> Iterator[None]:
    """Tasks on background threads for the live server; each ends before the test database goes."""
    settings.TASKS_IN_BACKGROUND = True
    yield
    assert background.wait_until_idle(timeout=180), "a background task outlived its test"


@pytest.mark.django_db(transaction=True)
def test_plan_execution_returns_at_once_and_each_action_settles_in_place(
    live_server: Any, page: Any, fake_org: FakeOrg, team_lead: Any, approver: Any, second_approver: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch, background_tasks: None,
) -> None:  # fmt: skip
    items = list(Item.objects.filter(vault__account=fake_org.account).order_by("pk")[:3])
    specs = [
        plans.ActionSpec(ProposedAction.Kind.SET_TAGS, item.vault, item=item, params={"tags": ["background-test"]})
        for item in items
    ]
    plan = approved_plan(
        account=fake_org.account, proposer=team_lead, approvers=[approver, second_approver], specs=specs
    )
    assert plan.actions.filter(status=ProposedAction.Status.APPROVED).count() == 3
    monkeypatch.setenv("FAKE_OP_LATENCY_MS", "1500")  # each `op item edit` (and its read) is slow

    sign_in(page, live_server.url, approver.username, PASSWORD)
    page.goto(f"{live_server.url}/cleanup/{plan.pk}/")
    page.evaluate("window.__samePage = true")
    started = time.monotonic()
    page.click("[data-test=execute]")
    page.wait_for_selector("#plan-execution")
    answered_in = time.monotonic() - started
    assert answered_in < 4, f"Execute took {answered_in:.1f} s to answer"
    print(f"Execute answered in {answered_in:.2f} s")
    state = page.get_attribute("#plan-execution", "data-execution-state")
    assert state in ("queued", "running"), state
    assert ProposedAction.objects.filter(plan=plan, status=ProposedAction.Status.DONE).count() < 3
    page.evaluate("window.__samePage = true")  # the POST's redirect was the last navigation
    screenshot(page, "background-04-execution-started")

    page.wait_for_selector("#plan-execution[data-execution-state=running]", timeout=30_000)
    page.wait_for_selector("#plan-execution[data-execution-state=finished]", timeout=90_000)
    # The box's last answer reloaded the plan body once: every action's row says done.
    expect(page.locator("tr.action-row [data-action-status=done]")).to_have_count(3)
    assert page.locator("[data-execution-label]").inner_text() == "Finished"
    assert page.evaluate("window.__samePage") is True
    assert set(CleanupPlan.objects.get(pk=plan.pk).actions.values_list("status", flat=True)) == {"done"}
    screenshot(page, "background-05-execution-finished")
    assert page.js_errors == []


@pytest.mark.django_db(transaction=True)
def test_a_pdf_report_row_goes_from_queued_to_done_without_a_reload(
    live_server: Any, page: Any, compliance_officer: Any, background_tasks: None
) -> None:
    from compliance.reports.models import ReportArtifact

    sign_in(page, live_server.url, compliance_officer.username, PASSWORD)
    page.goto(f"{live_server.url}/reports/")
    page.select_option("form[action$='/reports/generate/'] select[name=format]", "pdf")
    started = time.monotonic()
    page.locator("form[action$='/reports/generate/'] button[type=submit]").click()
    page.wait_for_selector("[data-artifact-status]")
    answered_in = time.monotonic() - started
    artifact = ReportArtifact.objects.get()
    first_seen = page.get_attribute(f"#artifact-{artifact.pk} [data-artifact-status]", "data-artifact-status")
    assert first_seen in ("queued", "running"), first_seen
    assert answered_in < 4, f"Generate took {answered_in:.1f} s to answer"
    print(f"Generate answered in {answered_in:.2f} s")
    page.evaluate("window.__samePage = true")
    page.wait_for_selector(f"#artifact-{artifact.pk} [data-artifact-status=done]", timeout=120_000)
    assert page.locator(f"#artifact-{artifact.pk} a:has-text('Download')").count() == 1
    assert page.evaluate("window.__samePage") is True
    artifact.refresh_from_db()
    assert artifact.status == ReportArtifact.Status.DONE and len(artifact.sha256) == 64
    assert page.js_errors == []
