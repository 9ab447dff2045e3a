"""The one definition of "rotated" (vaults/rotated.py), as break-glass follow-up, rotation actions
and offboarding read it: every secret value seen then has a new fingerprint since; title, URL and
tag edits are decoys, and a change before the moment does not count after it."""

from __future__ import annotations

import datetime

import pytest
from django.db.models import Count
from django.utils import timezone

from tests.vaults import factories as f
from tests.vaults.cleanup.conftest import FakeOrg, fake_org  # noqa: F401 - the real fake `op` organisation
from vaults.cleanup.rotation import fingerprint_digest
from vaults.fake_op import account as account_file
from vaults.models import Item, SecretField
from vaults.rotated import rotated_at

pytestmark = pytest.mark.django_db
H = datetime.timedelta(hours=1)


@pytest.fixture
def item() -> Item:
    vault = f.make_vault(account=f.make_account(name="Acme"), name="Ops")
    return f.make_item(vault=vault, title="Database admin", category="LOGIN")


def _digests(item: Item, salt: str = "s") -> dict[str, str]:
    rows = SecretField.objects.filter(item=item).values_list("field_id", "fingerprint")
    return {field_id: fingerprint_digest(fp, salt) for field_id, fp in rows if fp}


def test_a_password_changed_after_the_use_is_rotated_then_and_one_changed_before_is_not(item):
    now = timezone.now()
    field = f.make_secret(item=item, field_id="password", changed_at=now - 30 * H)

    assert rotated_at(item.pk, since=now - 20 * H) is None  # changed before the use: the person saw it
    assert rotated_at(item.pk, since=now - 30 * H) is None  # at the very moment of the use: still seen
    SecretField.objects.filter(pk=field.pk).update(fingerprint="f" * 64, changed_at=now - 2 * H)
    assert rotated_at(item.pk, since=now - 20 * H) == now - 2 * H


def test_with_two_secret_fields_one_changed_is_not_rotated_and_both_changed_is(item):
    now = timezone.now()
    f.make_secret(item=item, field_id="password", changed_at=now - 40 * H)
    f.make_secret(item=item, field_id="recovery-code", changed_at=now - 40 * H)
    seen = _digests(item)
    SecretField.objects.filter(item=item, field_id="password").update(fingerprint="a" * 64, changed_at=now - 5 * H)

    assert rotated_at(item.pk, since=now - 10 * H) is None
    assert rotated_at(item.pk, seen=seen, digest=lambda fp: fingerprint_digest(fp, "s")) is None
    SecretField.objects.filter(item=item, field_id="recovery-code").update(fingerprint="b" * 64, changed_at=now - 3 * H)
    assert rotated_at(item.pk, since=now - 10 * H) == now - 3 * H
    assert rotated_at(item.pk, seen=seen, digest=lambda fp: fingerprint_digest(fp, "s")) == now - 3 * H


def test_a_secret_field_deleted_after_the_use_proves_nothing_when_the_event_named_it(item):
    now = timezone.now()
    f.make_secret(item=item, field_id="password", changed_at=now - 40 * H)
    f.make_secret(item=item, field_id="recovery-code", changed_at=now - 40 * H)
    known = ["password", "recovery-code"]  # what break-glass records with the event
    SecretField.objects.filter(item=item, field_id="password").update(fingerprint="a" * 64, changed_at=now - 5 * H)
    SecretField.objects.filter(item=item, field_id="recovery-code").delete()  # the copied code may still work

    assert rotated_at(item.pk, since=now - 10 * H, required=known) is None
    # Decoy: a field op no longer returns a value for is no proof either.
    f.make_secret(item=item, field_id="recovery-code", changed_at=now - 4 * H)
    SecretField.objects.filter(item=item, field_id="recovery-code").update(fingerprint=None)
    assert rotated_at(item.pk, since=now - 10 * H, required=known) is None
    # True case: both replaced after the use.
    SecretField.objects.filter(item=item, field_id="recovery-code").update(fingerprint="c" * 64)
    assert rotated_at(item.pk, since=now - 10 * H, required=known) == now - 4 * H


def test_a_field_added_after_the_moment_was_never_seen_and_does_not_hold_a_rotation_back(item):
    now = timezone.now()
    f.make_secret(item=item, field_id="password", changed_at=now - 40 * H)
    seen = _digests(item)
    SecretField.objects.filter(item=item, field_id="password").update(fingerprint="a" * 64, changed_at=now - 5 * H)
    f.make_secret(item=item, field_id="api-key", changed_at=now - 4 * H)

    assert rotated_at(item.pk, since=now - 10 * H) == now - 4 * H
    assert rotated_at(item.pk, seen=seen, digest=lambda fp: fingerprint_digest(fp, "s")) == now - 5 * H


def test_a_seen_field_removed_or_no_longer_readable_proves_nothing(item):
    now = timezone.now()
    f.make_secret(item=item, field_id="password", changed_at=now - 40 * H)
    f.make_secret(item=item, field_id="recovery-code", changed_at=now - 40 * H)
    seen = _digests(item)
    SecretField.objects.filter(item=item, field_id="password").update(fingerprint="a" * 64, changed_at=now - 5 * H)
    SecretField.objects.filter(item=item, field_id="recovery-code").update(fingerprint=None, value_available=False)

    assert rotated_at(item.pk, seen=seen, digest=lambda fp: fingerprint_digest(fp, "s")) is None
    SecretField.objects.filter(item=item, field_id="recovery-code").delete()
    assert rotated_at(item.pk, seen=seen, digest=lambda fp: fingerprint_digest(fp, "s")) is None


def test_an_item_without_a_fingerprinted_secret_has_nothing_to_prove_a_rotation_with(item):
    now = timezone.now()
    assert rotated_at(item.pk, since=now - 10 * H) is None
    f.make_secret(item=item, field_id="password", fingerprint=None, value_available=False, changed_at=now)
    assert rotated_at(item.pk, since=now - 10 * H) is None
    assert rotated_at(item.pk, seen={}, digest=str) is None


def test_through_the_real_sync_a_title_url_and_tag_edit_is_no_rotation_and_a_new_password_is(
    fake_org: FakeOrg,  # noqa: F811
) -> None:
    item = (Item.objects.filter(vault__account=fake_org.account, archived=False, category="LOGIN")
            .annotate(secrets=Count("secret_fields")).filter(secrets=1).order_by("pk").first())  # fmt: skip
    assert item is not None
    moment = timezone.now()
    seen = _digests(item, "t")
    with account_file.locked_update(fake_org.path) as data:
        row = account_file.find(data["items"], item.op_id)
        assert row is not None
        row["title"] = "Renamed login"
        row["urls"] = [{"href": "https://new.example.com", "primary": True}]
        row["tags"] = ["moved"]
        account_file.touch_item(data, row)
    fake_org.sync(scope="items")
    item.refresh_from_db()
    assert item.title == "Renamed login" and item.tags == ["moved"]  # the edit did reach the inventory

    assert rotated_at(item.pk, since=moment) is None
    assert rotated_at(item.pk, seen=seen, digest=lambda fp: fingerprint_digest(fp, "t")) is None

    account_file.edit_item_value(fake_org.path, item.op_id, "a-brand-new-secret-value-7Qz")
    fake_org.sync(scope="items")
    assert rotated_at(item.pk, since=moment) is not None
    assert rotated_at(item.pk, seen=seen, digest=lambda fp: fingerprint_digest(fp, "t")) is not None
