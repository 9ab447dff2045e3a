"""End to end through the real fake `op` and Events API: the sync records break-glass events for
a vault classified emergency, and the demo's story seeds them from the planted 3 AM uses."""

from __future__ import annotations

import pytest

from tests.security.hostile_org import sync_account
from vaults.breakglass import record
from vaults.breakglass.demo import seed_demo_break_glass
from vaults.breakglass.models import EmergencyUse
from vaults.fake_op import account as fake_account
from vaults.findings.engine import compute_findings
from vaults.findings.models import Finding
from vaults.models import SyncRun, Vault

pytestmark = pytest.mark.django_db


def test_the_sync_records_uses_of_an_emergency_vault_and_the_demo_tells_the_story(fake_org, admin_user, team_lead):
    data = fake_account.load(fake_org.path)
    planted = set(data["planted"]["break_glass_usages"])
    account = fake_org.add_account()
    assert sync_account(account).status == SyncRun.Status.SUCCEEDED
    assert not EmergencyUse.objects.exists()  # "Break Glass Production" is inferred production

    seeded = seed_demo_break_glass(account=account, admin=admin_user, lead=team_lead)

    vault = Vault.objects.get(account=account, name="Break Glass Production")
    assert vault.classification == Vault.Classification.EMERGENCY and vault.classification_set_by_person
    uses = {e["uuid"]: e for e in data["events"]["itemusages"]}
    assert seeded == EmergencyUse.objects.count() >= 1
    # Every use of the vault is an event: the planted night uses, and the day-time ones too.
    assert {uses[u]["item_uuid"] for u in planted} <= {e.item_op_id for e in EmergencyUse.objects.all()}
    vault_uses = [u for u in uses.values() if u["vault_uuid"] == vault.op_id]
    assert 1 <= seeded <= len(vault_uses)
    first = EmergencyUse.objects.get(reason__startswith="INC-2291")
    assert first.reason.startswith("INC-2291") and record.rotation_state(first, first.rotation_due_at) == "done"
    assert first.first_used_at.hour in (1, 2, 3)  # the 3 AM story

    assert sync_account(account).status == SyncRun.Status.SUCCEEDED  # a later sync adds nothing
    assert EmergencyUse.objects.count() == seeded
    compute_findings(account=account)
    missing = Finding.objects.filter(account=account, kind=Finding.Kind.EMERGENCY_REASON_MISSING, status="open")
    assert missing.count() == max(0, seeded - 2)
