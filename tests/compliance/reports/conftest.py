"""A generated organisation synced through the real fake `op` (tests/vaults/conftest.py), with
findings and health snapshots computed, for report tests."""

from __future__ import annotations

import pytest

from tests.vaults.conftest import fake_org, org_sizes  # noqa: F401 — fixtures reused
from vaults import sync
from vaults.findings.engine import compute_findings
from vaults.models import Account, SyncRun


@pytest.fixture
def synced_org(fake_org, settings, tmp_path) -> Account:  # noqa: F811
    settings.MEDIA_ROOT = tmp_path / "media"
    account = fake_org.add_account()
    started, _ = sync.start_sync(account=account, scope=SyncRun.Scope.FULL)
    run = sync.run_sync(sync_run_id=started.pk)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    compute_findings(account=account, sync_run=run)
    return account


# A signed-off access review (tests/compliance/reviews/signed_off_review.py) for the readability tests.
from tests.compliance.reviews.conftest import org  # noqa: E402, F401 — fixtures reused
from tests.compliance.reviews.signed_off_review import people, signed_off  # noqa: E402, F401
