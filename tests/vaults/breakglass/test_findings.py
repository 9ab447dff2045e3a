"""emergency_reason_missing and emergency_rotation_late through the findings engine, with decoys."""

from __future__ import annotations

import datetime

import pytest

from tests.vaults import factories as f
from tests.vaults.breakglass.conftest import use
from tests.vaults.findings.helpers import open_findings
from vaults.breakglass import record
from vaults.breakglass.models import EmergencyUse
from vaults.findings.engine import compute_findings
from vaults.findings.health import compute_health
from vaults.findings.models import Finding
from vaults.models import SecretField, Vault

pytestmark = pytest.mark.django_db
H = datetime.timedelta(hours=1)
REASON, LATE = Finding.Kind.EMERGENCY_REASON_MISSING, Finding.Kind.EMERGENCY_ROTATION_LATE


def _item(vault, title, now, changed_hours_ago=24 * 30):
    item = f.make_item(vault=vault, title=title, category="LOGIN")
    f.make_secret(item=item, field_id="password", changed_at=now - changed_hours_ago * H)
    return item


def test_reasons_missing_after_24_hours_are_findings_and_the_decoys_are_not(account, emergency_vault, prod_vault, dana, now):
    silent = _item(emergency_vault, "AWS Production Root Login", now)
    explained = _item(emergency_vault, "Postgres Production Superuser Login", now)
    recent = _item(emergency_vault, "Okta Production Super Admin Login", now)
    ordinary = _item(prod_vault, "Payments Production Admin Login", now)
    other = f.make_account(name="other")
    theirs = _item(f.make_vault(account=other, name="Emergency", classification=Vault.Classification.EMERGENCY),
                   "Other Production Root Login", now)
    for item, hours in ((silent, 30), (explained, 30), (recent, 6), (ordinary, 30)):
        use(item, dana, now - hours * H)
    use(theirs, f.make_op_user(account=other), now - 30 * H)
    record.record_uses(account=account)
    record.record_uses(account=other)
    EmergencyUse.objects.filter(item=explained).update(reason="Incident INC-42: database down",
                                                       reason_at=now - 20 * H)

    found = open_findings(account, REASON, now=now)

    assert [x.item for x in found] == [silent]
    assert found[0].severity == Finding.Severity.HIGH and "no reason was given within 24 hours" in found[0].explanation
    assert open_findings(other, REASON, now=now)[0].item == theirs  # the other account's own finding, not ours


def test_rotation_late_when_no_new_secret_within_24_hours_and_the_decoys_are_not(account, emergency_vault, dana, now):
    stale = _item(emergency_vault, "AWS Production Root Login", now)  # changed 30 days before the use
    rotated = _item(emergency_vault, "Postgres Production Superuser Login", now)
    recent = _item(emergency_vault, "Okta Production Super Admin Login", now)
    for item, hours in ((stale, 30), (rotated, 30), (recent, 6)):
        use(item, dana, now - hours * H)
    SecretField.objects.filter(item=rotated).update(changed_at=now - 26 * H)  # 4 h after the use
    record.record_uses(account=account)
    record.refresh_rotations(account=account)

    found = open_findings(account, LATE, now=now)

    assert [x.item for x in found] == [stale]
    assert "due for rotation by" in found[0].explanation


def test_both_findings_resolve_when_the_reason_is_recorded_and_the_secret_rotated(account, emergency_vault, dana, now):
    item = _item(emergency_vault, "AWS Production Root Login", now)
    use(item, dana, now - 30 * H)
    record.record_uses(account=account)
    compute_findings(account=account, now=now)
    assert set(Finding.objects.filter(status=Finding.Status.OPEN).values_list("kind", flat=True)) == {REASON, LATE}

    EmergencyUse.objects.update(reason="Outage", reason_at=now)
    SecretField.objects.filter(item=item).update(changed_at=now - H)
    record.refresh_rotations(account=account)
    compute_findings(account=account, now=now + H)

    assert not Finding.objects.filter(status=Finding.Status.OPEN, kind__in=[REASON, LATE]).exists()
    assert Finding.objects.filter(status=Finding.Status.RESOLVED, kind__in=[REASON, LATE]).count() == 2
    assert record.rotation_state(EmergencyUse.objects.get(), now + H) == "done-late"  # late, and shown as such


def test_the_health_score_takes_kinds_without_a_cap_in_its_stride(account, emergency_vault, dana, now):
    item = _item(emergency_vault, "AWS Production Root Login", now)
    use(item, dana, now - 30 * H)
    record.record_uses(account=account)
    compute_findings(account=account, now=now)

    health = compute_health(account=account)

    assert health[None].score == 100  # the lifecycle kinds have no cap: they are listed, not scored
