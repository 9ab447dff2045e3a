"""Item details read in batches (`op item get -`, OP_ITEM_BATCH) through the real fake `op`: the
same inventory as item by item, exact call and request counts, an item vanishing from a batch,
cut output, rate limits in the middle of a batch, and no secret value in what the run keeps."""

from __future__ import annotations

import logging
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.security.canaries import CanaryScanner, planted_secrets
from vaults import sync
from vaults.fake_op import account as fake_account
from vaults.fake_op.calllog import read_call_log
from vaults.fake_op.knobs import counter_path
from vaults.models import Account, Item, SecretField, SyncRun, Vault

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]
# Columns that differ between two accounts' copies of one item for reasons other than the sync's
# reading: row ids, foreign keys and the moment the row was written.
NOT_FACTS = {"id", "vault_id", "item_id", "first_seen", "changed_at"}


def run(account: Account, scope: str = SyncRun.Scope.FULL) -> SyncRun:
    started, _ = sync.start_sync(account=account, scope=scope)
    return sync.run_sync(sync_run_id=started.pk)


def facts(account: Account) -> dict[str, Any]:
    """Every stored column of the account's items and secret fields, by op id."""
    columns = [f.name for f in SecretField._meta.concrete_fields if f.name not in NOT_FACTS | {"item"}]
    fields: dict[str, list[dict[str, Any]]] = {}
    for row in SecretField.objects.filter(item__vault__account=account).values("item__op_id", *columns):
        fields.setdefault(row.pop("item__op_id"), []).append(row)
    return {row["op_id"]: {**{k: v for k, v in row.items() if k not in NOT_FACTS},
                           "secret_fields": sorted(fields.get(row["op_id"], []), key=lambda f: f["field_id"])}
            for row in Item.objects.filter(vault__account=account).values()}  # fmt: skip


def active(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in data["items"] if i.get("state", "ACTIVE") == "ACTIVE"]


def item_gets(call_log: Path) -> list[dict[str, Any]]:
    return [e for e in read_call_log(call_log) if e["command"] == "item get"]


def ids_read(entry: dict[str, Any]) -> list[str]:
    argv = entry["argv"]
    return list(entry.get("items") or [argv[argv.index("get") + 1]])


def changed_in_one_vault(fake_org: Any, count: int, title: str) -> tuple[str, list[str]]:
    data = fake_org.data
    vault_id = next(v["id"] for v in data["vaults"] if sum(1 for i in active(data) if i["vault_id"] == v["id"]) >= count)
    ids = [i["id"] for i in active(data) if i["vault_id"] == vault_id][:count]
    for n, item_id in enumerate(ids):
        fake_account.rename_item(fake_org.path, item_id, f"{title} {n}")
    return vault_id, ids


def wrapper(tmp_path: Path, settings: Any, name: str, body: str) -> None:
    """An `op` that does something around the real fake op; $OP is the fake."""
    script = tmp_path / name
    script.write_text(f"#!/bin/bash\nOP={settings.OP_BIN}\nPY={REPO}/.venv/bin/python\n{body}\n")
    script.chmod(0o755)
    settings.OP_BIN = str(script)


def test_a_batched_sync_stores_exactly_what_an_item_by_item_sync_stores_for_fewer_calls(fake_org, settings):
    settings.OP_ITEM_BATCH = 1
    one_by_one = run(fake_org.add_account("one by one"))
    single_calls = item_gets(fake_org.call_log)
    fake_org.reset_calls()
    settings.OP_ITEM_BATCH = 4
    batched = run(fake_org.add_account("batched"))

    assert one_by_one.status == batched.status == SyncRun.Status.SUCCEEDED, (one_by_one.error, batched.error)
    expected = facts(Account.objects.get(name="one by one"))
    assert set(expected) == {i["id"] for i in active(fake_org.data)}
    assert facts(Account.objects.get(name="batched")) == expected
    assert sum(len(f["secret_fields"]) for f in expected.values()) > 0
    # N items of each vault in ceil(N / 4) calls, every item read exactly once.
    per_vault = Counter(i["vault_id"] for i in active(fake_org.data))
    gets = item_gets(fake_org.call_log)
    assert len(gets) == sum(math.ceil(n / 4) for n in per_vault.values())
    assert sorted(i for e in gets for i in ids_read(e)) == sorted(expected)
    assert all(len(ids_read(e)) <= 4 for e in gets) and any(len(ids_read(e)) == 4 for e in gets)
    assert len(single_calls) == len(expected)
    # Requests are what 1Password counts: the same; calls saved: N - k.
    assert batched.op_requests == one_by_one.op_requests
    assert one_by_one.op_calls - batched.op_calls == len(expected) - len(gets)
    assert batched.counts["items_fetched"] == one_by_one.counts["items_fetched"] == len(expected)


@pytest.mark.parametrize("on_error", ["continue", "stop"])
def test_an_item_deleted_between_list_and_get_is_vanished_and_its_batch_mates_are_stored(
    fake_org, settings, tmp_path, monkeypatch, caplog, on_error
):
    """The wrapper deletes one of the changed items just before the batch reaches the fake."""
    account = fake_org.add_account()
    run(account)
    vault_id, ids = changed_in_one_vault(fake_org, 5, "Vanishing Batch Login")
    victim = ids[2]
    mates = [i for i in ids if i != victim]
    wrapper(tmp_path, settings, "op-deleting-item",
            f'if [[ "$*" == *" get - "* && ! -e {tmp_path}/deleted ]]; then touch {tmp_path}/deleted; '
            f'$PY -c "from vaults.fake_op import account; account.remove_item(\'{fake_org.path}\', \'{victim}\')"; fi\n'
            'exec $OP "$@"')  # fmt: skip
    monkeypatch.setenv("FAKE_OP_BATCH_ON_ERROR", on_error)
    fake_org.reset_calls()
    caplog.set_level(logging.DEBUG)

    result = run(account, scope=SyncRun.Scope.ITEMS)

    assert result.status == SyncRun.Status.SUCCEEDED, result.error
    assert (tmp_path / "deleted").exists()
    assert result.counts["items_vanished"] == 1
    assert result.counts["items_fetched"] == 4
    for op_id in mates:
        stored = Item.objects.get(vault__account=account, op_id=op_id)
        assert stored.detail_version == stored.version
    victim_row = Item.objects.get(vault__account=account, op_id=victim)
    assert victim_row.detail_version != victim_row.version  # its new details were never read
    vault = Vault.objects.get(account=account, op_id=vault_id)
    assert vault.listed_content_version != vault.content_version  # listed again next time
    batch, *singles = item_gets(fake_org.call_log)
    asked = ids_read(batch)
    assert sorted(asked) == sorted(ids)
    # Read alone: the victim, and with "stop" the items op never reached after it.
    after = asked[asked.index(victim) + 1:] if on_error == "stop" else []
    assert [ids_read(e) for e in singles] == [[victim]] + [[i] for i in after]
    CanaryScanner(planted_secrets(fake_org.data)).assert_absent(
        [("run error", result.error), ("run counts", str(result.counts)), ("log", caplog.text)]
    )


def test_cut_batch_output_is_completed_item_by_item_and_the_sync_succeeds(fake_org, settings, tmp_path, caplog):
    account = fake_org.add_account()
    run(account)
    _, ids = changed_in_one_vault(fake_org, 5, "Cut Batch Login")
    wrapper(tmp_path, settings, "op-cutting-batches",
            'if [[ "$*" == *" get - "* ]]; then out=$($OP "$@"); printf "%s" "${out:0:$(( ${#out} / 2 ))}"; exit 0; fi\n'
            'exec $OP "$@"')  # fmt: skip
    fake_org.reset_calls()
    caplog.set_level(logging.DEBUG)

    result = run(account, scope=SyncRun.Scope.ITEMS)

    assert result.status == SyncRun.Status.SUCCEEDED, result.error
    assert Item.objects.filter(title__startswith="Cut Batch Login").count() == 5
    for stored in Item.objects.filter(op_id__in=ids):
        assert stored.detail_version == stored.version
    gets = item_gets(fake_org.call_log)
    batch, singles = gets[0], gets[1:]
    refetched = [i for e in singles for i in ids_read(e)]
    assert ids_read(batch) == ids and 0 < len(refetched) < 5  # the first half was used
    assert refetched == ids[-len(refetched):]
    assert "not valid JSON" in caplog.text
    CanaryScanner(planted_secrets(fake_org.data)).assert_absent([("log", caplog.text), ("run error", result.error)])


def test_malformed_batch_and_single_output_fails_clearly_and_loses_nothing(fake_org, monkeypatch, caplog):
    account = fake_org.add_account()
    run(account)
    before = dict(Item.objects.values_list("op_id", "detail_version"))
    fields_before = SecretField.objects.count()
    changed_in_one_vault(fake_org, 5, "Malformed Batch Login")
    monkeypatch.setenv("FAKE_OP_MALFORMED", "item get")
    caplog.set_level(logging.DEBUG)

    result = run(account, scope=SyncRun.Scope.ITEMS)

    assert result.status == SyncRun.Status.FAILED
    assert "`op item get` printed output that is not valid JSON" in result.error
    assert dict(Item.objects.values_list("op_id", "detail_version")) == before
    assert SecretField.objects.count() == fields_before
    assert not Item.objects.filter(removed_at__isnull=False).exists()
    CanaryScanner(planted_secrets(fake_org.data)).assert_absent(
        [("run error", result.error), ("run counts", str(result.counts)), ("log", caplog.text)]
    )


def new_items_in_one_vault(fake_org: Any, count: int, title: str) -> tuple[str, list[str]]:
    """`count` new login items in one vault, and a fresh rate-limit window (the first sync's
    requests no longer count), as the next hour would bring."""
    vault_id = fake_org.data["vaults"][0]["id"]
    ids = [fake_account.add_item(fake_org.path, {
        "vault_id": vault_id, "title": f"{title} {n}", "category": "LOGIN",
        "fields": [{"id": "password", "type": "CONCEALED", "purpose": "PASSWORD", "label": "password",
                    "value": f"CANARY-limited-{n:02d}-0123456789abcdef", "password_details": {"strength": "GOOD"}}],
    }) for n in range(count)]  # fmt: skip
    counter_path(str(fake_org.path)).unlink(missing_ok=True)
    fake_org.reset_calls()
    return vault_id, ids


# The budget check needs 10 reads left after its own (MIN_READ_BUDGET): a window of 11 requests.
# ratelimit, vault list and item list are requests 1-3, so a batch of 10 gets 8 before the 429.
WINDOW = "11"


def test_a_brief_rate_limit_in_the_middle_of_a_batch_is_waited_out_and_nothing_is_missed(
    fake_org, monkeypatch, short_sleeps
):
    account = fake_org.add_account()
    run(account)
    _, ids = new_items_in_one_vault(fake_org, 10, "Limited Batch Login")
    monkeypatch.setenv("FAKE_OP_RATE_LIMIT_AFTER", WINDOW)
    monkeypatch.setenv("FAKE_OP_RATE_LIMIT_RESET_SECONDS", "3")

    result = run(account, scope=SyncRun.Scope.ITEMS)

    assert result.status == SyncRun.Status.SUCCEEDED, result.error
    gets = item_gets(fake_org.call_log)
    assert [e["exit_code"] for e in gets] == [4, 0]  # cut after 8, then the 2 items not read
    first, second = (ids_read(e) for e in gets)
    assert sorted(first) == sorted(ids) and second == first[8:]
    assert result.op_requests == 1 + 1 + 2 + 10 + 2  # ratelimit, vault list, item list, 10 + 2 reads
    assert short_sleeps and short_sleeps[0] >= 60  # op's own retry-after, as for a single read
    assert Item.objects.filter(op_id__in=ids, detail_version__isnull=False).count() == 10
    assert SecretField.objects.filter(item__op_id__in=ids).count() == 10


def test_an_hour_long_rate_limit_in_the_middle_of_a_batch_parks_the_run_and_the_next_run_resumes(
    fake_org, monkeypatch
):
    account = fake_org.add_account()
    run(account)
    before = dict(Item.objects.values_list("op_id", "detail_version"))
    vault_id, ids = new_items_in_one_vault(fake_org, 10, "Parked Batch Login")
    monkeypatch.setenv("FAKE_OP_RATE_LIMIT_AFTER", WINDOW)

    parked = run(account, scope=SyncRun.Scope.ITEMS)

    assert parked.status == SyncRun.Status.WAITING, parked.error
    assert parked.waiting_until is not None
    assert [e["exit_code"] for e in item_gets(fake_org.call_log)] == [4]  # no item-by-item reads after a 429
    assert {k: v for k, v in Item.objects.values_list("op_id", "detail_version") if k in before} == before
    assert not Item.objects.filter(op_id__in=ids, detail_version__isnull=False).exists()
    assert not Item.objects.filter(removed_at__isnull=False).exists()
    monkeypatch.delenv("FAKE_OP_RATE_LIMIT_AFTER")

    resumed = run(account, scope=SyncRun.Scope.ITEMS)

    assert resumed.status == SyncRun.Status.SUCCEEDED, resumed.error
    assert Item.objects.filter(op_id__in=ids, detail_version__isnull=False).count() == 10
    vault = Vault.objects.get(account=account, op_id=vault_id)
    assert vault.listed_content_version == vault.content_version
