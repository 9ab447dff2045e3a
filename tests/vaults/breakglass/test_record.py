"""Break-glass events from raw item usage: grouping, idempotence, decoys, rotation, backfill."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.vaults import factories as f
from tests.vaults.breakglass.conftest import use
from vaults.breakglass import record
from vaults.breakglass.models import EmergencyUse
from vaults.breakglass.track import track
from vaults.models import SecretField, Vault

pytestmark = pytest.mark.django_db
H = datetime.timedelta(hours=1)


def test_uses_minutes_apart_are_one_event_and_a_use_two_hours_later_is_another(account, root_login, dana, now):
    start = now - 30 * H
    use(root_login, dana, start)
    use(root_login, dana, start + datetime.timedelta(minutes=40), action="secure-copy")
    use(root_login, dana, start + datetime.timedelta(minutes=90))  # 50 min after the previous: same event
    use(root_login, dana, start + 4 * H)  # 2.5 h after the previous: a new emergency

    created = record.record_uses(account=account)

    first, second = sorted(created, key=lambda e: e.first_used_at)
    assert (first.use_count, first.first_used_at, first.last_used_at) == (3, start, start + datetime.timedelta(minutes=90))
    assert first.actions == ["reveal", "secure-copy"] and second.use_count == 1
    assert first.rotation_due_at == start + 24 * H
    assert (first.item, first.vault, first.user_email, first.item_title) == (
        root_login, root_login.vault, "dana@example.com", "AWS Production Root Login")


def test_recording_again_adds_nothing_and_a_later_use_extends_its_event(account, root_login, dana, now):
    use(root_login, dana, now - 3 * H)
    assert len(record.record_uses(account=account)) == 1

    assert record.record_uses(account=account) == []
    use(root_login, dana, now - 3 * H + datetime.timedelta(minutes=30))
    assert record.record_uses(account=account) == []

    [event] = EmergencyUse.objects.all()
    assert event.use_count == 2 and event.last_used_at == now - 3 * H + datetime.timedelta(minutes=30)


def test_uses_outside_emergency_vaults_are_not_events(account, root_login, prod_vault, dana, now):
    ordinary = f.make_item(vault=prod_vault, title="Payments Production Admin Login", category="LOGIN")
    use(ordinary, dana, now - 30 * H)  # decoy: a production vault, at night or not
    other_account = f.make_account(name="other")
    theirs = f.make_vault(account=other_account, name="Emergency", classification=Vault.Classification.EMERGENCY)
    their_item = f.make_item(vault=theirs, title="Other Production Root Login")
    stranger = f.make_op_user(account=other_account, name="Sam Stranger")
    use(their_item, stranger, now - 30 * H)  # decoy: an emergency vault of another account
    use(root_login, dana, now - 30 * H)

    created = record.record_uses(account=account)

    assert [e.item_op_id for e in created] == [root_login.op_id]
    assert not EmergencyUse.objects.filter(account=other_account).exists()


def test_a_secret_changed_after_the_use_is_a_rotation_and_one_changed_before_is_not(account, root_login, dana, now):
    use(root_login, dana, now - 30 * H)
    record.record_uses(account=account)

    assert record.refresh_rotations(account=account) == 0  # changed 30 days before the use: does not count
    SecretField.objects.filter(item=root_login).update(changed_at=now - 25 * H)
    assert record.refresh_rotations(account=account) == 1

    event = EmergencyUse.objects.get()
    assert event.rotated_at == now - 25 * H
    assert record.rotation_state(event, now) == "done"


def test_every_secret_field_must_change_for_the_use_to_count_as_rotated(account, root_login, dana, now):
    f.make_secret(item=root_login, field_id="recovery", changed_at=now - 40 * H)
    use(root_login, dana, now - 30 * H)
    record.record_uses(account=account)
    SecretField.objects.filter(item=root_login, field_id="password").update(changed_at=now - 20 * H)

    assert record.refresh_rotations(account=account) == 0
    SecretField.objects.filter(item=root_login, field_id="recovery").update(changed_at=now - 2 * H)
    assert record.refresh_rotations(account=account) == 1
    assert EmergencyUse.objects.get().rotated_at == now - 2 * H


def test_a_secret_field_deleted_after_the_use_keeps_the_event_unrotated(account, root_login, dana, now):
    f.make_secret(item=root_login, field_id="recovery", changed_at=now - 40 * H)
    use(root_login, dana, now - 30 * H)
    [event] = record.record_uses(account=account)
    assert event.secret_field_ids == ["password", "recovery"]  # names only
    SecretField.objects.filter(item=root_login, field_id="password").update(changed_at=now - 20 * H)
    SecretField.objects.filter(item=root_login, field_id="recovery").delete()  # the code someone copied

    assert record.refresh_rotations(account=account) == 0
    assert record.state(EmergencyUse.objects.get(), now).label.endswith("rotation late")


def test_states_say_what_an_event_waits_for(account, root_login, dana, now):
    use(root_login, dana, now - 30 * H)
    [event] = record.record_uses(account=account)

    assert record.state(event, now - 20 * H).label == "Reason requested; rotation due"
    assert record.state(event, now).label == "Reason missing; rotation late"
    event.reason_at, event.rotated_at = now - 29 * H, now - 2 * H
    assert record.state(event, now).label == "Closed (rotated late)"
    event.rotated_at = now - 10 * H - 12 * H
    assert record.state(event, now).label == "Closed"


def test_classifying_a_vault_emergency_backfills_its_stored_uses(account, prod_vault, dana, now, client_for, admin_user):
    item = f.make_item(vault=prod_vault, title="Payments Production Break Glass Login", category="LOGIN")
    use(item, dana, now - 48 * H)
    assert track(account=account) == 0  # a production vault: nothing

    response = client_for(admin_user).post(reverse("vaults:settings", args=[prod_vault.pk]), {"classification": "emergency"})

    assert response.status_code == 302
    [event] = EmergencyUse.objects.all()
    assert event.item == item and event.vault_name == "Payments Production"


def test_the_backfill_command_records_events_per_account(account, root_login, dana, now):
    use(root_login, dana, now - 5 * H)
    out = StringIO()

    call_command("breakglass_backfill", "--account", "acme", stdout=out)
    call_command("breakglass_backfill", stdout=out)

    assert out.getvalue().splitlines() == ["acme: 1 new break-glass event", "acme: 0 new break-glass events"]


@pytest.mark.parametrize(("name", "expected"), [
    ("Emergency Access", Vault.Classification.EMERGENCY),
    ("Break-glass", Vault.Classification.EMERGENCY),
    ("breakglass admin", Vault.Classification.EMERGENCY),
    ("Break Glass Production", Vault.Classification.PRODUCTION),  # an environment word wins: an admin decides
    ("Glass Breakers Club", Vault.Classification.UNCLASSIFIED),
])
def test_names_that_only_say_break_glass_or_emergency_are_inferred_emergency(name, expected):
    from vaults.classification import classify_vault
    from vaults.fake_op.demo_catalog import classify

    assert classify_vault(name, "USER_CREATED") == expected
    assert classify(name) == str(expected)  # the fake organisation's mirror of the rule agrees
