"""The sync through the real fake `op` subprocess: what it stores, what it costs, how it fails."""

from __future__ import annotations

import pytest
from django.urls import reverse

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


def fetched_ids(call_log):
    """The item ids each `item get` read: from argv for a single call, from stdin for a batch."""
    return [entry.get("items") or [entry["argv"][entry["argv"].index("get") + 1]]
            for entry in read_call_log(call_log) if entry["command"] == "item get"]


@pytest.mark.parametrize(("batch", "gets"), [(25, 2), (1, 5)])
def test_changing_5_items_in_2_vaults_costs_1_vault_list_2_item_lists_and_5_item_get_requests(
    fake_org, settings, batch, gets
):
    """5 requests either way; batched, one `item get -` process per vault."""
    settings.OP_ITEM_BATCH = batch
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
    assert item_side(fake_org.calls()) == ["item get"] * gets + ["item list"] * 2 + ["vault list"]
    assert sorted(i for ids in fetched_ids(fake_org.call_log) for i in ids) == sorted(changed)
    assert set(fake_org.calls()) - ITEM_SIDE <= {"service-account ratelimit"}
    assert Item.objects.filter(title__startswith="Renamed Production Login").count() == 5
    # op_requests: 1 ratelimit + 1 vault list + 2 x 2 item list + 5 item reads, batched or not.
    assert (result.op_calls, result.op_requests) == (gets + 4, 11)


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


def test_a_rate_limit_answered_briefly_is_retried_and_the_sync_succeeds(fake_org, monkeypatch, short_sleeps):
    account = fake_org.add_account()
    run(account)
    data = fake_org.data
    for vault in data["vaults"][:6]:
        item = next(i for i in data["items"] if i["vault_id"] == vault["id"] and i.get("state", "ACTIVE") == "ACTIVE")
        fake_account.rename_item(fake_org.path, item["id"], f"{item['title']} v2")
    fake_org.reset_calls()
    # 14 calls are needed; the 13th and later are refused until the window resets. The window is
    # long enough for the first 12 calls on a loaded machine (3 s was not).
    monkeypatch.setenv("FAKE_OP_RATE_LIMIT_AFTER", "12")
    monkeypatch.setenv("FAKE_OP_RATE_LIMIT_RESET_SECONDS", "10")

    result = run(account, scope=SyncRun.Scope.ITEMS)

    assert result.status == SyncRun.Status.SUCCEEDED, result.error
    refused = [e for e in read_call_log(fake_org.call_log) if e["exit_code"] != 0]
    assert refused, "the fake never answered 429: the retry path was not exercised"
    assert short_sleeps and short_sleeps[0] >= 60  # op's own retry-after ("1 minutes") was heeded
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


def test_a_run_failing_after_a_vaults_item_list_fetches_its_changed_items_details_next_time(fake_org, monkeypatch):
    """Titles come with `item list`, so they prove nothing here: the versions of the stored
    details and the `item get` calls of the next run do."""
    account = fake_org.add_account()
    run(account)
    data = fake_org.data
    vault_id = next(v["id"] for v in data["vaults"]
                    if sum(1 for i in data["items"] if i["vault_id"] == v["id"] and i.get("state", "ACTIVE") == "ACTIVE") >= 3)
    active = [i for i in data["items"] if i["vault_id"] == vault_id and i.get("state", "ACTIVE") == "ACTIVE"]
    renamed, rekeyed, untouched = active[0], active[1], active[2]
    fake_account.rename_item(fake_org.path, renamed["id"], "Resumed Production Login")
    fake_account.edit_item_value(fake_org.path, rekeyed["id"], "CANARY-resumed-value-0123456789abcdef")
    fingerprint_before = SecretField.objects.get(item__op_id=rekeyed["id"]).fingerprint
    changed = {renamed["id"], rekeyed["id"]}
    versions = {i["id"]: i["version"] for i in fake_org.data["items"] if i["id"] in changed}
    monkeypatch.setenv("FAKE_OP_FAIL_COMMAND", "item get")  # `item list` works, every `item get` fails

    assert run(account, scope=SyncRun.Scope.ITEMS).status == SyncRun.Status.FAILED
    assert "item list" in fake_org.calls()
    for op_id in changed:  # listed (new version known), details not stored
        stored = Item.objects.get(op_id=op_id)
        assert stored.version == versions[op_id] and stored.detail_version != versions[op_id]
    monkeypatch.delenv("FAKE_OP_FAIL_COMMAND")
    fake_org.reset_calls()

    result = run(account, scope=SyncRun.Scope.ITEMS)

    assert result.status == SyncRun.Status.SUCCEEDED, result.error
    fetched = [i for ids in fetched_ids(fake_org.call_log) for i in ids]
    assert sorted(fetched) == sorted(changed)  # exactly those: the untouched item is not fetched again
    for op_id in changed:
        stored = Item.objects.get(op_id=op_id)
        assert stored.version == stored.detail_version == versions[op_id]
    assert SecretField.objects.get(item__op_id=rekeyed["id"]).fingerprint != fingerprint_before
    assert Item.objects.get(op_id=untouched["id"]).detail_version == untouched["version"]
    vault = Vault.objects.get(op_id=vault_id)
    assert vault.listed_content_version == vault.content_version


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


def test_the_sync_stores_its_own_identity_from_whoami_once(fake_org):
    account = fake_org.add_account()
    service_account = fake_org.data["tokens"][0]["user_id"]

    run(account)
    fake_org.reset_calls()
    run(account, scope=SyncRun.Scope.ITEMS)

    account.refresh_from_db()
    assert account.service_account_user_uuid == service_account
    assert account.service_account_user_type == "SERVICE_ACCOUNT"
    assert "whoami" not in fake_org.calls()  # known already: not asked again


def test_user_states_arrive_exactly_as_op_prints_them(fake_org):
    account = fake_org.add_account()
    humans = [u for u in fake_org.data["users"] if u["type"] == "MEMBER"]
    printed = {humans[0]["id"]: "TRANSFER_SUSPENDED", humans[1]["id"]: "RECOVERY_ACCEPTED",
               humans[2]["id"]: "LOCKED_BY_POLICY_2030"}
    for user_id, state in printed.items():
        fake_account.set_user_state(fake_org.path, user_id, state)

    run(account)

    stored = dict(OpUser.objects.filter(op_id__in=printed).values_list("op_id", "state"))
    assert stored == printed
    classes = {u.op_id: u.state_class for u in OpUser.objects.filter(op_id__in=printed)}
    assert classes == {humans[0]["id"]: "inactive", humans[1]["id"]: "pending", humans[2]["id"]: "inactive"}


def test_document_files_and_generated_flags_are_stored_and_shown_without_content(fake_org, client_for, admin_user):
    account = fake_org.add_account()
    vault_id = fake_org.data["vaults"][0]["id"]
    document = fake_account.add_item(fake_org.path, {
        "vault_id": vault_id, "title": "Vendor Contract Production", "category": "DOCUMENT",
        "fields": [{"id": "notesPlain", "type": "STRING", "purpose": "NOTES", "label": "notesPlain", "value": ""}],
        "files": [{"id": "f1", "name": "contract-2026.pdf", "size": 348_160}],
    })
    chosen = fake_account.add_item(fake_org.path, {
        "vault_id": vault_id, "title": "Kiosk Production Login", "category": "LOGIN",
        "fields": [{"id": "password", "type": "CONCEALED", "purpose": "PASSWORD", "label": "password",
                    "value": "CANARY-chosen-value-0123456789abcd",
                    "password_details": {"strength": "GOOD", "generated": False}}],
    })

    result = run(account)

    assert result.status == SyncRun.Status.SUCCEEDED, result.error
    stored_document = Item.objects.get(op_id=document)
    assert stored_document.files == [{"name": "contract-2026.pdf", "size": 348_160}]
    assert not Item.objects.exclude(op_id=document).filter(files__contains=[{"name": "contract-2026.pdf"}]).exists()
    assert SecretField.objects.get(item__op_id=chosen).generated is False
    generated = {i["id"] for i in fake_org.data["items"] if any(
        (f.get("password_details") or {}).get("generated") for f in i["fields"])}
    assert SecretField.objects.filter(item__op_id__in=generated, generated=True).exists()
    assert not SecretField.objects.filter(item__op_id__in=generated, generated=False).exclude(
        item__op_id__in=fake_org.data["planted"]["weak"]).exists()

    client = client_for(admin_user)
    page = client.get(reverse("vaults:item", args=[stored_document.pk])).content.decode()
    login_page = client.get(reverse("vaults:item", args=[Item.objects.get(op_id=chosen).pk])).content.decode()
    assert "contract-2026.pdf" in page and "340.0\xa0KB" in page
    assert "/files/" not in page  # no download path
    assert "chosen by a person" in login_page and "generated by 1Password" not in login_page


def test_a_resync_stores_changed_people_and_groups_and_marks_the_unlisted_removed(fake_org):
    account = fake_org.add_account()
    run(account)
    humans = [u for u in fake_org.data["users"] if u["type"] == "MEMBER"]
    changed, leaver, untouched = humans[0], humans[1], humans[2]
    group = fake_org.data["groups"][0]
    fake_account.set_user_state(fake_org.path, changed["id"], "SUSPENDED")
    with fake_account.locked_update(fake_org.path) as data:
        fake_account.find(data["users"], changed["id"])["name"] = "Renamed Person"
        data["users"] = [u for u in data["users"] if u["id"] != leaver["id"]]
        fake_account.find(data["groups"], group["id"])["name"] = "Renamed Group"

    run(account)

    rows = {u.op_id: u for u in OpUser.objects.filter(account=account)}
    assert (rows[changed["id"]].name, rows[changed["id"]].state) == ("Renamed Person", "SUSPENDED")
    assert rows[changed["id"]].removed_at is None
    assert rows[leaver["id"]].removed_at is not None
    # Decoy: a person op printed exactly as before keeps every value.
    assert (rows[untouched["id"]].name, rows[untouched["id"]].email, rows[untouched["id"]].state) == (
        untouched["name"], untouched["email"], untouched["state"].upper())
    assert OpGroup.objects.get(account=account, op_id=group["id"]).name == "Renamed Group"

    with fake_account.locked_update(fake_org.path) as data:
        data["users"].append(leaver)  # back in the account: no longer removed
    run(account)
    assert OpUser.objects.get(account=account, op_id=leaver["id"]).removed_at is None
