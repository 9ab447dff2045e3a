"""The sync through the real fake `op` subprocess: what it stores, what it costs, how it fails."""

from __future__ import annotations

import pytest

from vaults import sync
from vaults.fake_op import account as fake_account
from vaults.fake_op.calllog import read_call_log
from vaults.models import Item, ItemUsage, OpGroup, OpUser, SecretField, SyncRun, Vault, VaultGrant

pytestmark = pytest.mark.django_db

ITEM_SIDE = {"vault list", "item list", "item get"}


def run(account, scope=SyncRun.Scope.FULL):
    started, _ = sync.start_sync(account=account, scope=scope)
    return sync.run_sync(sync_run_id=started.pk)


def item_side(calls):
    return sorted(c for c in calls if c in ITEM_SIDE)


def active_item_ids(data):
    return {i["id"] for i in data["items"] if i.get("state", "ACTIVE") != "ARCHIVED"}


def test_a_first_sync_stores_every_vault_item_person_grant_and_usage_event(fake_org):
    account = fake_org.add_account()

    result = run(account)

    data = fake_org.data
    assert result.status == SyncRun.Status.SUCCEEDED, result.error
    assert set(Vault.objects.values_list("op_id", flat=True)) == {v["id"] for v in data["vaults"]}
    assert set(Item.objects.filter(archived=False).values_list("op_id", flat=True)) == active_item_ids(data)
    assert set(OpUser.objects.values_list("op_id", flat=True)) == {u["id"] for u in data["users"]}
    assert OpGroup.objects.count() == len(data["groups"])
    direct = sum(len(v.get("user_grants", [])) for v in data["vaults"])
    via_group = sum(len(v.get("group_grants", [])) for v in data["vaults"])
    assert VaultGrant.objects.filter(user__isnull=False).count() == direct
    assert VaultGrant.objects.filter(group__isnull=False).count() == via_group
    assert ItemUsage.objects.count() == len(data["events"]["itemusages"])
    assert result.op_calls == len(fake_org.calls())


def test_secret_fields_keep_fingerprints_and_strength_but_never_values(fake_org):
    account = fake_org.add_account()

    run(account)

    fields = list(SecretField.objects.values_list("fingerprint", "zxcvbn_score", "length", "value_available"))
    assert fields and all(fp and len(fp) == 64 for fp, _, _, _ in fields)
    stored = {str(row) for row in SecretField.objects.values()} | {str(row) for row in Item.objects.values()}
    for canary in fake_org.data["canaries"][:200]:
        assert not any(canary in row for row in stored)


def test_changing_5_items_in_2_vaults_costs_1_vault_list_2_item_lists_and_5_item_gets(fake_org):
    account = fake_org.add_account()
    run(account)
    data = fake_org.data
    vault_a, vault_b = data["vaults"][0]["id"], data["vaults"][1]["id"]
    changed = [i["id"] for i in data["items"] if i["vault_id"] == vault_a and i.get("state", "ACTIVE") == "ACTIVE"][:3]
    changed += [i["id"] for i in data["items"] if i["vault_id"] == vault_b and i.get("state", "ACTIVE") == "ACTIVE"][:2]
    for n, item_id in enumerate(changed):
        fake_account.rename_item(fake_org.path, item_id, f"Renamed Production Login {n}")
    fake_org.reset_calls()

    result = run(account, scope=SyncRun.Scope.ITEMS)

    assert result.status == SyncRun.Status.SUCCEEDED, result.error
    assert item_side(fake_org.calls()) == ["item get"] * 5 + ["item list"] * 2 + ["vault list"]
    assert set(fake_org.calls()) - ITEM_SIDE <= {"service-account ratelimit"}
    assert Item.objects.filter(title__startswith="Renamed Production Login").count() == 5


def test_a_sync_with_nothing_changed_makes_one_vault_list_and_nothing_else(fake_org):
    account = fake_org.add_account()
    run(account)
    fake_org.reset_calls()

    result = run(account, scope=SyncRun.Scope.ITEMS)

    assert result.status == SyncRun.Status.SUCCEEDED
    assert item_side(fake_org.calls()) == ["vault list"]
    assert set(fake_org.calls()) - ITEM_SIDE <= {"service-account ratelimit"}


def test_a_changed_secret_moves_changed_at_and_the_fingerprint(fake_org):
    account = fake_org.add_account()
    run(account)
    item = Item.objects.filter(category="API_CREDENTIAL", archived=False).first()
    before = SecretField.objects.filter(item=item).get()
    fake_account.edit_item_value(fake_org.path, item.op_id, "CANARY-new-value-0123456789abcdef")

    run(account, scope=SyncRun.Scope.ITEMS)

    after = SecretField.objects.get(pk=before.pk)
    assert after.fingerprint != before.fingerprint
    assert after.changed_at > before.changed_at


def test_a_rate_limit_answered_briefly_is_retried_and_the_sync_succeeds(fake_org, monkeypatch):
    account = fake_org.add_account()
    run(account)
    data = fake_org.data
    for vault in data["vaults"][:6]:
        item = next(i for i in data["items"] if i["vault_id"] == vault["id"] and i.get("state", "ACTIVE") == "ACTIVE")
        fake_account.rename_item(fake_org.path, item["id"], f"{item['title']} v2")
    fake_org.reset_calls()
    # 14 calls are needed; the 13th and later are refused until the 3-second window resets.
    monkeypatch.setenv("FAKE_OP_RATE_LIMIT_AFTER", "12")
    monkeypatch.setenv("FAKE_OP_RATE_LIMIT_RESET_SECONDS", "3")

    result = run(account, scope=SyncRun.Scope.ITEMS)

    assert result.status == SyncRun.Status.SUCCEEDED, result.error
    refused = [e for e in read_call_log(fake_org.call_log) if e["exit_code"] != 0]
    assert refused, "the fake never answered 429: the retry path was not exercised"
    assert Item.objects.filter(title__endswith=" v2").count() == 6


def test_an_hour_long_rate_limit_parks_the_run_as_waiting_not_failed(fake_org, monkeypatch):
    account = fake_org.add_account()
    run(account)
    fake_org.reset_calls()
    monkeypatch.setenv("FAKE_OP_RATE_LIMIT_AFTER", "0")

    result = run(account)

    assert result.status == SyncRun.Status.WAITING
    assert result.waiting_until is not None
    assert Item.objects.filter(removed_at__isnull=True).count() == len(active_item_ids(fake_org.data))


def test_an_expired_token_fails_with_a_clear_error_and_keeps_the_previous_snapshot(fake_org):
    account = fake_org.add_account()
    run(account)
    items_before = set(Item.objects.filter(removed_at__isnull=True).values_list("op_id", flat=True))
    fake_account.revoke_token(fake_org.path, fake_org.token)

    result = run(account)

    assert result.status == SyncRun.Status.FAILED
    assert "token" in result.error.lower()
    assert set(Item.objects.filter(removed_at__isnull=True).values_list("op_id", flat=True)) == items_before


def test_malformed_json_fails_the_run_and_loses_nothing(fake_org, monkeypatch):
    account = fake_org.add_account()
    run(account)
    items_before = Item.objects.filter(removed_at__isnull=True).count()
    fake_account.rename_item(fake_org.path, fake_org.data["items"][0]["id"], "Changed Production Login")
    monkeypatch.setenv("FAKE_OP_MALFORMED", "item list")

    result = run(account, scope=SyncRun.Scope.ITEMS)

    assert result.status == SyncRun.Status.FAILED
    assert "item list" in result.error
    assert Item.objects.filter(removed_at__isnull=True).count() == items_before


def test_a_failed_run_is_resumed_by_the_next_run(fake_org, monkeypatch):
    account = fake_org.add_account()
    run(account)
    target = next(i for i in fake_org.data["items"] if i.get("state", "ACTIVE") == "ACTIVE")
    fake_account.rename_item(fake_org.path, target["id"], "Resumed Production Login")
    monkeypatch.setenv("FAKE_OP_FAIL_COMMAND", "item get")
    assert run(account, scope=SyncRun.Scope.ITEMS).status == SyncRun.Status.FAILED
    monkeypatch.delenv("FAKE_OP_FAIL_COMMAND")

    result = run(account, scope=SyncRun.Scope.ITEMS)

    assert result.status == SyncRun.Status.SUCCEEDED
    assert Item.objects.get(op_id=target["id"]).title == "Resumed Production Login"


def test_a_vault_deleted_in_1password_disappears_with_its_items_only_after_a_successful_listing(fake_org):
    account = fake_org.add_account()
    run(account)
    doomed = fake_org.data["vaults"][2]["id"]
    fake_account.delete_vault(fake_org.path, doomed)

    result = run(account, scope=SyncRun.Scope.ITEMS)

    assert result.status == SyncRun.Status.SUCCEEDED
    assert Vault.objects.get(op_id=doomed).removed_at is not None
    assert not Item.objects.filter(vault__op_id=doomed, removed_at__isnull=True).exists()


def test_a_vault_deleted_between_vault_list_and_item_list_is_skipped_without_losing_anything(fake_org, settings, tmp_path):
    """A wrapper `op` deletes the vault just before the first `item list` reaches the fake."""
    account = fake_org.add_account()
    run(account)
    doomed = fake_org.data["vaults"][3]["id"]
    other = next(i for i in fake_org.data["items"] if i["vault_id"] == fake_org.data["vaults"][4]["id"])
    for item in [i for i in fake_org.data["items"] if i["vault_id"] in (doomed, other["vault_id"])][:2]:
        fake_account.rename_item(fake_org.path, item["id"], f"{item['title']} (edited)")
    wrapper = tmp_path / "op-deleting-vault"
    wrapper.write_text(
        "#!/bin/bash\n"
        f'if [[ "$*" == *"item list"* && ! -e {tmp_path}/deleted ]]; then touch {tmp_path}/deleted; '
        f'{settings.OP_BIN.rsplit("/", 2)[0]}/.venv/bin/python -c "from vaults.fake_op import account; account.delete_vault(\'{fake_org.path}\', \'{doomed}\')"; fi\n'
        f'exec {settings.OP_BIN} "$@"\n'
    )
    wrapper.chmod(0o755)
    settings.OP_BIN = str(wrapper)
    kept = Item.objects.filter(vault__op_id=doomed, removed_at__isnull=True).count()

    result = run(account, scope=SyncRun.Scope.ITEMS)

    assert result.status == SyncRun.Status.SUCCEEDED, result.error
    assert (tmp_path / "deleted").exists()
    assert Item.objects.filter(vault__op_id=doomed, removed_at__isnull=True).count() in (0, kept)
    assert Item.objects.filter(removed_at__isnull=True).exclude(vault__op_id=doomed).count() > 0


def test_a_second_sync_request_while_one_is_active_returns_the_active_run(fake_org):
    account = fake_org.add_account()

    first, created_first = sync.start_sync(account=account)
    second, created_second = sync.start_sync(account=account)

    assert created_first and not created_second
    assert first.pk == second.pk


def test_a_missing_token_fails_with_instructions_and_calls_nothing(fake_org, monkeypatch):
    account = fake_org.add_account()
    monkeypatch.delenv("OP_SERVICE_ACCOUNT_TOKEN")

    result = run(account)

    assert result.status == SyncRun.Status.FAILED
    assert "OP_SERVICE_ACCOUNT_TOKEN" in result.error
    assert fake_org.calls() == []


def test_concealed_fields_returned_without_values_fall_back_to_ops_label_and_the_sync_page_says_so(
    fake_org, settings, tmp_path, client_for, admin_user
):
    """An `op` that ignores --reveal (older CLI, restricted token) prints concealed fields without
    their value: no fingerprint, op's own strength label, and a note on the Sync page."""
    account = fake_org.add_account()
    wrapper = tmp_path / "op-without-reveal"
    wrapper.write_text('#!/bin/bash\nargs=()\nfor a in "$@"; do [[ "$a" == "--reveal" ]] || args+=("$a"); done\n'
                       f'exec {settings.OP_BIN} "${{args[@]}}"\n')
    wrapper.chmod(0o755)
    settings.OP_BIN = str(wrapper)

    result = run(account)

    assert result.status == SyncRun.Status.SUCCEEDED, result.error
    assert result.items_without_values > 0
    fields = SecretField.objects.filter(value_available=False)
    assert fields.count() == result.items_without_values
    assert not fields.exclude(fingerprint=None).exists()
    assert fields.exclude(strength="").exists()
    page = client_for(admin_user).get("/sync/").content.decode()
    assert "duplicates could not be checked" in page
