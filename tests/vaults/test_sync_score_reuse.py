"""Stored zxcvbn scores are reused: a value read again, through the real fake `op` subprocess,
is not scored again; a new value is; and every stored score is what zxcvbn gives."""

from __future__ import annotations

from typing import Any

import pytest
from zxcvbn import zxcvbn

from vaults import sync
from vaults.fake_op import account as fake_account
from vaults.fake_op.calllog import read_call_log
from vaults.models import SecretField, SyncRun
from vaults.op.fingerprint import ZXCVBN_MAX_CHARS, fingerprint, zxcvbn_runs

pytestmark = pytest.mark.django_db


def run(account: Any) -> SyncRun:
    started, _ = sync.start_sync(account=account, scope=SyncRun.Scope.FULL)
    result = sync.run_sync(sync_run_id=started.pk)
    assert result.status == SyncRun.Status.SUCCEEDED, result.error
    return result


def scored_run(account: Any) -> int:
    """zxcvbn runs of one sync (this process: the sync parses on its own threads)."""
    before = zxcvbn_runs()
    run(account)
    return zxcvbn_runs() - before


def items_read(call_log: Any) -> int:
    return sum(len(c.get("items", [])) or 1 for c in read_call_log(call_log) if c["command"] == "item get")


def active(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in data["items"] if i.get("state", "ACTIVE") == "ACTIVE"]


def scored_values(data: dict[str, Any]) -> list[str]:
    """The values the sync scores: non-empty CONCEALED fields (SSHKEY ones get no score)."""
    return [f["value"] for i in active(data) for f in i.get("fields", [])
            if f.get("type") == "CONCEALED" and f.get("value")]


def stored_scores() -> dict[str | None, int | None]:
    return dict(SecretField.objects.filter(fingerprint__isnull=False).values_list("fingerprint", "zxcvbn_score"))


def test_reading_every_item_again_with_no_value_changed_runs_zxcvbn_zero_times(fake_org, settings):
    account = fake_org.add_account()
    key = settings.FINGERPRINT_KEY.encode()
    values = scored_values(fake_org.data)
    first = scored_run(account)
    # Reused secrets are scored once per value (two op threads may race on one new value).
    assert len(set(values)) <= first <= len(values)
    scores = stored_scores()
    with fake_account.locked_update(fake_org.path) as data:
        for item in active(data):
            fake_account.touch_item(data, item)
    fake_org.reset_calls()

    again = scored_run(account)

    assert items_read(fake_org.call_log) == len(active(fake_org.data))  # every item was read again
    assert again == 0
    assert stored_scores() == scores
    for value in set(values):
        assert scores[fingerprint(value, key=key)] == zxcvbn(value[:ZXCVBN_MAX_CHARS])["score"]


def test_decoy_a_new_value_under_the_same_title_is_scored_afresh(fake_org, settings):
    account = fake_org.add_account()
    run(account)
    new_value = "summer2019"  # weak: the old, strong score must not survive
    with fake_account.locked_update(fake_org.path) as data:
        item = next(i for i in active(data) if i["category"] == "LOGIN")
        title = item["title"]
        fake_account.set_secret(data, item, new_value)
        fake_account.touch_item(data, item)

    scored = scored_run(account)

    assert scored == 1
    row = SecretField.objects.get(fingerprint=fingerprint(new_value, key=settings.FINGERPRINT_KEY.encode()))
    assert row.item.title == title
    assert row.zxcvbn_score == zxcvbn(new_value)["score"] <= 2


def test_decoy_another_accounts_values_under_another_key_are_scored_again(fake_org, settings):
    first = fake_org.add_account("First")
    run(first)
    settings.FINGERPRINT_KEY = "a key of the second deployment"
    second = fake_org.add_account("Second")  # the same organisation: the very same values

    scored = scored_run(second)

    values = set(scored_values(fake_org.data))
    assert len(values) <= scored
    key = settings.FINGERPRINT_KEY.encode()
    rows = SecretField.objects.filter(item__vault__account=second)
    for value in values:
        stored = set(rows.filter(fingerprint=fingerprint(value, key=key)).values_list("zxcvbn_score", flat=True))
        assert stored == {zxcvbn(value[:ZXCVBN_MAX_CHARS])["score"]}
