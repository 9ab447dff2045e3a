"""Adversarial review of the demo's in-process task runner (openclaw_web/background.py): what a
person sees after the server restarted while a task was queued. No broker, no beat (the demo)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from openclaw_web import background
from vaults import sync
from vaults.models import Account, SyncRun


@pytest.mark.django_db(transaction=True)
def test_a_sync_lost_with_a_restart_does_not_block_the_account_for_ever(
    admin_user: Any, client_for: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The background pool lives in memory: a restart loses its queue, and the SyncRun stays
    QUEUED. With a broker, beat's resume_waiting_syncs_task re-sends such runs; the demo has no
    beat, so the Sync page says "queued" for ever and every "Sync now" answers with that same
    dead run (sync.start_sync: a QUEUED run blocks every later sync of its account)."""
    settings.TASKS_IN_BACKGROUND = True
    monkeypatch.delenv("OC_ADV_NO_TOKEN", raising=False)
    client = client_for(admin_user)

    # Decoy: on an account with nothing lost, "Sync now" runs in the background and ends (failed:
    # no token), so the pool works and the run's row tells the truth.
    fresh = Account.objects.create(name="fresh", token_env="OC_ADV_NO_TOKEN")
    client.post(reverse("sync:sync_now", args=[fresh.pk]))
    assert background.wait_until_idle(60)
    assert SyncRun.objects.get(account=fresh).status == SyncRun.Status.FAILED

    # The restart: a run queued an hour ago whose thread no longer exists.
    account = Account.objects.create(name="restarted", token_env="OC_ADV_NO_TOKEN")
    lost = SyncRun.objects.create(account=account)
    SyncRun.objects.filter(pk=lost.pk).update(created_at=timezone.now() - sync.STALE_AFTER - timedelta(minutes=50))

    client.post(reverse("sync:sync_now", args=[account.pk]))
    assert background.wait_until_idle(60)

    states = list(SyncRun.objects.filter(account=account).values_list("status", flat=True))
    assert SyncRun.Status.QUEUED not in states, f"still queued an hour after a restart: {states}"


@pytest.mark.django_db
def test_a_report_lost_with_a_restart_is_not_shown_as_queued_or_running_for_ever(
    compliance_officer: Any, client_for: Any
) -> None:
    """The same loss for a report: the demo renders it on a thread of the server; stopped, the
    artifact stays QUEUED (or RUNNING) and its row polls every 2 s saying so, for ever. Syncs
    now come back (sync.is_abandoned); report artifacts and plan executions have no such rule."""
    from compliance.reports.models import ReportArtifact

    long_ago = timezone.now() - timedelta(hours=3)
    lost_queued = ReportArtifact.objects.create(kind="soc2", period="2026Q3", format="pdf", generator_label="x")
    lost_running = ReportArtifact.objects.create(
        kind="soc2", period="2026Q3", format="xlsx", generator_label="x", status=ReportArtifact.Status.RUNNING
    )
    ReportArtifact.objects.filter(pk__in=[lost_queued.pk, lost_running.pk]).update(
        created_at=long_ago, started_at=long_ago
    )
    ReportArtifact.objects.filter(pk=lost_queued.pk).update(started_at=None)
    fresh = ReportArtifact.objects.create(kind="soc2", period="2026Q3", format="pdf", generator_label="x")
    client = client_for(compliance_officer)

    def row(artifact: ReportArtifact) -> str:
        return client.get(reverse("reports:artifact", args=[artifact.pk])).content.decode()

    # Decoy: a report queued just now is queued, and its row polls.
    assert 'data-artifact-status="queued"' in row(fresh) and "hx-trigger" in row(fresh)
    for lost in (lost_queued, lost_running):
        text = row(lost)
        assert "hx-trigger" not in text, f"{lost.status} three hours after a restart, still polling"
