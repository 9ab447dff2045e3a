"""Point-in-time history (vaults/history.py): spans open and close as the synced state changes,
nothing is written when nothing changed, and the state at a past moment reads as it was then."""

from __future__ import annotations

import datetime
import itertools
import random
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.vaults.conftest import FakeOrg
from tests.vaults.factories import (
    add_member,
    grant,
    make_account,
    make_item,
    make_op_group,
    make_op_user,
    make_secret,
    make_vault,
)
from vaults import sync
from vaults.access import AccessRow, effective_access
from vaults.fake_op import account as fake_account
from vaults.history import access_at, access_changes, active_items_at, history_since, record_history, vaults_at
from vaults.models import (
    Account,
    GrantSpan,
    GroupMembership,
    GroupSpan,
    Item,
    ItemSpan,
    MembershipSpan,
    OpGroup,
    OpUser,
    SyncRun,
    UserSpan,
    Vault,
    VaultGrant,
    VaultSpan,
)

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 2, 1, 12, 0, tzinfo=datetime.UTC)
T1 = T0 + datetime.timedelta(hours=1)
T2 = T0 + datetime.timedelta(hours=2)
SPAN_MODELS = (UserSpan, GroupSpan, MembershipSpan, GrantSpan, VaultSpan, ItemSpan)


def span_rows() -> int:
    return sum(model.objects.count() for model in SPAN_MODELS)


def open_spans(model: Any, **match: Any) -> list[Any]:
    return list(model.objects.filter(valid_to__isnull=True, **match))


def as_seen(rows: list[AccessRow]) -> list[tuple[Any, ...]]:
    """Everything a report reads from an access row, by op id (independent of how rows are built)."""
    return [(r.user.op_id, r.user.name, r.user.email, r.user.state, r.user.state_class, r.vault.op_id, r.vault.name,
             r.vault.classification, sorted(r.permissions), r.via_direct, r.via_groups, sorted(r.direct_permissions))
            for r in rows]


@pytest.fixture
def org() -> dict[str, Any]:
    account = make_account(name="Acme")
    vault = make_vault(account=account, name="Payments Production", classification=Vault.Classification.PRODUCTION)
    dana = make_op_user(account=account, name="Dana")
    eve = make_op_user(account=account, name="Eve")
    ops = make_op_group(account=account, name="Ops", members=[eve])
    grant(vault=vault, user=dana, permissions=["allow_viewing"])
    grant(vault=vault, group=ops, permissions=["view_items", "edit_items"])
    item = make_item(vault=vault, title="Stripe key", category="API_CREDENTIAL")
    make_secret(item=item)
    return {"account": account, "vault": vault, "dana": dana, "eve": eve, "ops": ops, "item": item}


def test_the_first_recording_opens_one_span_per_thing_and_starts_history(org: dict[str, Any]) -> None:
    account = org["account"]
    assert history_since(account) is None

    written = record_history(account, at=T0)

    assert history_since(account) == T0
    assert written == span_rows() == 2 + 1 + 1 + 2 + 1 + 1  # users, group, membership, grants, vault, item
    [dana_grant] = open_spans(GrantSpan, user_op_id=org["dana"].op_id)
    # Stored as granular names, sorted: a broad `allow_viewing` is what it includes.
    assert dana_grant.permissions == ["view_and_copy_passwords", "view_item_history", "view_items"]
    [item] = open_spans(ItemSpan)
    assert (item.op_id, item.vault_op_id, item.category, item.rotating) == (
        org["item"].op_id, org["vault"].op_id, "API_CREDENTIAL", True)


def test_a_second_recording_with_nothing_changed_writes_nothing(org: dict[str, Any]) -> None:
    account = org["account"]
    record_history(account, at=T0)
    before = span_rows()
    # Decoy: op printing the granular names of what it printed broadly before is no change.
    VaultGrant.objects.filter(user=org["dana"]).update(
        permissions=["view_items", "view_and_copy_passwords", "view_item_history"])

    assert record_history(account, at=T1) == 0
    assert span_rows() == before
    assert not UserSpan.objects.filter(valid_to__isnull=False).exists()
    assert history_since(account) == T0


def test_a_changed_user_closes_the_old_span_and_opens_a_new_one(org: dict[str, Any]) -> None:
    account, dana = org["account"], org["dana"]
    record_history(account, at=T0)
    OpUser.objects.filter(pk=dana.pk).update(state="SUSPENDED")

    assert record_history(account, at=T1) == 2

    old, new = UserSpan.objects.filter(op_id=dana.op_id).order_by("valid_from")
    assert (old.state, old.valid_from, old.valid_to) == ("ACTIVE", T0, T1)
    assert (new.state, new.valid_from, new.valid_to) == ("SUSPENDED", T1, None)
    assert len(open_spans(UserSpan, op_id=org["eve"].op_id)) == 1  # decoy: unchanged user untouched


def test_a_recording_with_an_earlier_moment_lands_at_the_latest_one(org: dict[str, Any]) -> None:
    account, dana = org["account"], org["dana"]
    record_history(account, at=T1)
    OpUser.objects.filter(pk=dana.pk).update(state="SUSPENDED")

    record_history(account, at=T0)  # computed before waiting for the lock a later recording held

    assert [(s.state, s.valid_from, s.valid_to) for s in UserSpan.objects.filter(op_id=dana.op_id)] == [
        ("SUSPENDED", T1, None)]
    assert access_at(account, T0) == []


def test_removed_users_groups_and_vaults_stay_as_removed_spans(org: dict[str, Any]) -> None:
    account = org["account"]
    record_history(account, at=T0)
    OpUser.objects.filter(pk=org["dana"].pk).update(removed_at=T1)
    OpGroup.objects.filter(pk=org["ops"].pk).update(removed_at=T1)
    Vault.objects.filter(pk=org["vault"].pk).update(removed_at=T1)

    record_history(account, at=T1)

    assert [s.removed for s in UserSpan.objects.filter(op_id=org["dana"].op_id).order_by("valid_from")] == [False, True]
    assert [s.removed for s in GroupSpan.objects.order_by("valid_from")] == [False, True]
    assert [s.removed for s in VaultSpan.objects.order_by("valid_from")] == [False, True]


def test_memberships_and_grants_close_when_they_disappear_and_open_when_added(org: dict[str, Any]) -> None:
    account, vault, dana, eve, ops = (org[k] for k in ("account", "vault", "dana", "eve", "ops"))
    record_history(account, at=T0)
    GroupMembership.objects.filter(group=ops, user=eve).delete()
    add_member(group=ops, user=dana)
    VaultGrant.objects.filter(user=dana).update(permissions=["allow_viewing", "allow_editing"])
    VaultGrant.objects.filter(group=ops).delete()

    record_history(account, at=T1)

    assert [(m.user_op_id, m.valid_to) for m in MembershipSpan.objects.order_by("valid_from", "user_op_id")] == [
        (eve.op_id, T1), (dana.op_id, None)]
    assert open_spans(GrantSpan, group_op_id=ops.op_id) == []
    [dana_now] = open_spans(GrantSpan, user_op_id=dana.op_id)
    assert "edit_items" in dana_now.permissions and dana_now.valid_from == T1
    assert GrantSpan.objects.get(user_op_id=dana.op_id, valid_to=T1).permissions == [
        "view_and_copy_passwords", "view_item_history", "view_items"]
    assert vault.op_id == dana_now.vault_op_id


def test_items_open_close_on_archive_removal_and_addition(org: dict[str, Any]) -> None:
    account, vault, item = org["account"], org["vault"], org["item"]
    record_history(account, at=T0)
    Item.objects.filter(pk=item.pk).update(archived=True)
    new = make_item(vault=vault, title="Database password", category="DATABASE")
    gone = make_item(vault=vault, title="Old login", category="LOGIN")

    record_history(account, at=T1)
    Item.objects.filter(pk=gone.pk).update(removed_at=T2)
    record_history(account, at=T2)

    assert [s.archived for s in ItemSpan.objects.filter(op_id=item.op_id).order_by("valid_from")] == [False, True]
    [added] = open_spans(ItemSpan, op_id=new.op_id)
    # No secret with a known change time: not counted as rotating (decoy for the flag).
    assert added.valid_from == T1 and added.rotating is False
    assert [s.removed for s in ItemSpan.objects.filter(op_id=gone.op_id).order_by("valid_from")] == [False, True]
    assert {s.op_id for s in active_items_at([account], T1)} == {new.op_id, gone.op_id}
    assert {s.op_id for s in active_items_at([account], T0)} == {item.op_id}
    assert {s.op_id for s in active_items_at([account], T2)} == {new.op_id}


def test_items_of_a_vault_removed_at_a_moment_do_not_count_then(org: dict[str, Any]) -> None:
    account = org["account"]
    record_history(account, at=T0)
    Vault.objects.filter(pk=org["vault"].pk).update(removed_at=T1)
    record_history(account, at=T1)

    assert active_items_at([account], T0).count() == 1
    assert active_items_at([account], T1).count() == 0
    assert [v.op_id for v in vaults_at(account, T0)] == [org["vault"].op_id] and vaults_at(account, T1) == []


def test_access_at_a_moment_shows_the_grants_of_that_moment(org: dict[str, Any]) -> None:
    account, vault, dana, eve = org["account"], org["vault"], org["dana"], org["eve"]
    record_history(account, at=T0)
    at_t0 = as_seen(effective_access(account))
    VaultGrant.objects.filter(user=dana).delete()  # revoked
    VaultGrant.objects.filter(group=org["ops"]).update(permissions=["allow_managing"])  # changed after T0
    record_history(account, at=T1)

    assert as_seen(access_at(account, T0)) == at_t0
    assert as_seen(access_at(account, T0 + datetime.timedelta(minutes=59))) == at_t0
    [eve_then] = access_at(account, T0)[1:]
    assert eve_then.user.op_id == eve.op_id and eve_then.permissions == {"view_items", "edit_items"}
    assert as_seen(access_at(account, T1)) == as_seen(effective_access(account))
    [eve_now] = access_at(account, T1)
    assert eve_now.user.op_id == eve.op_id and eve_now.permissions == {"manage_vault"}
    assert access_at(account, T0 - datetime.timedelta(seconds=1)) == []  # before history: nothing known
    assert {r.vault.pk for r in access_at(account, T0)} == {vault.pk}  # the synced row's id, for links and counts


def test_access_at_follows_the_merge_rules_of_effective_access(org: dict[str, Any]) -> None:
    account, vault = org["account"], org["vault"]
    suspended = make_op_user(account=account, name="Sam", state="SUSPENDED")
    grant(vault=vault, user=suspended)
    gone_group = make_op_group(account=account, name="Old", members=[org["dana"]], removed_at=T0)
    grant(vault=vault, group=gone_group, permissions=["allow_managing"])
    gone_vault = make_vault(account=account, name="Gone", removed_at=T0)
    grant(vault=gone_vault, user=org["dana"])
    two_paths = make_op_group(account=account, name="Dev", members=[org["dana"]])
    grant(vault=vault, group=two_paths, permissions=["export_items"])

    record_history(account, at=T0)

    rows = access_at(account, T0)
    assert as_seen(rows) == as_seen(effective_access(account))
    by_user = {r.user.name: r for r in rows}
    assert by_user["Sam"].user.state_class == "inactive"
    assert by_user["Dana"].via_groups == ("Dev",) and "manage_vault" not in by_user["Dana"].permissions
    assert "Gone" not in {r.vault.name for r in rows}


def test_access_changes_lists_grants_modifications_and_removals_with_their_path(org: dict[str, Any]) -> None:
    account, vault, dana, eve, ops = (org[k] for k in ("account", "vault", "dana", "eve", "ops"))
    record_history(account, at=T0)
    frank = make_op_user(account=account, name="Frank")
    add_member(group=ops, user=frank)  # granted through the group
    VaultGrant.objects.filter(user=dana).update(permissions=["allow_viewing", "allow_managing"])  # modified
    record_history(account, at=T1)
    VaultGrant.objects.filter(group=ops).delete()  # Eve and Frank lose access
    grant(vault=vault, user=eve, permissions=["view_items", "edit_items"])  # decoy: Eve keeps the same rights, directly
    record_history(account, at=T2)

    changes = access_changes([account], T0, T2 + datetime.timedelta(hours=1))

    seen = [(c.at, c.change, c.user.name, c.path, sorted(c.before), sorted(c.after)) for c in changes]
    assert seen == [
        (T1, "modified", "Dana", "direct", ["view_and_copy_passwords", "view_item_history", "view_items"],
         ["manage_vault", "view_and_copy_passwords", "view_item_history", "view_items"]),
        (T1, "granted", "Frank", "group Ops", [], ["edit_items", "view_items"]),
        (T2, "removed", "Frank", "group Ops", ["edit_items", "view_items"], []),
    ]
    assert all(c.vault.op_id == vault.op_id for c in changes)
    # The first recording is where history begins, not a wave of grants; a period after T2 saw nothing.
    assert access_changes([account], T0 - datetime.timedelta(days=1), T1) == []
    assert access_changes([account], T2 + datetime.timedelta(seconds=1), T2 + datetime.timedelta(days=1)) == []
    # A period starting at a recording, or between two, compares with the state just before it.
    from_t1 = access_changes([account], T1, T2 + datetime.timedelta(hours=1))
    assert [(c.at, c.change, c.user.name) for c in from_t1] == [(c.at, c.change, c.user.name) for c in changes]
    after_t1 = access_changes([account], T1 + datetime.timedelta(seconds=1), T2 + datetime.timedelta(hours=1))
    assert [(c.change, c.user.name) for c in after_t1] == [("removed", "Frank")]


def test_joining_a_group_is_a_grant_and_leaving_it_a_removal(org: dict[str, Any]) -> None:
    account, ops = org["account"], org["ops"]
    gina = make_op_user(account=account, name="Gina")
    record_history(account, at=T0)
    add_member(group=ops, user=gina)
    record_history(account, at=T1)
    GroupMembership.objects.filter(group=ops, user=gina).delete()
    record_history(account, at=T2)

    changes = access_changes([account], T0, T2 + datetime.timedelta(hours=1))

    assert [(c.at, c.change, c.user.name, c.path) for c in changes] == [
        (T1, "granted", "Gina", "group Ops"), (T2, "removed", "Gina", "group Ops")]


def test_a_vault_removed_in_the_period_removes_every_access_to_it(org: dict[str, Any]) -> None:
    account = org["account"]
    record_history(account, at=T0)
    Vault.objects.filter(pk=org["vault"].pk).update(removed_at=T1)
    record_history(account, at=T1)

    changes = access_changes([account], T0, T2)

    assert sorted((c.change, c.user.name) for c in changes) == [("removed", "Dana"), ("removed", "Eve")]


# --- the sync records history, and only a successful one -----------------------------------------


def run(account: Account, scope: str = SyncRun.Scope.FULL) -> SyncRun:
    started, _ = sync.start_sync(account=account, scope=scope)
    return sync.run_sync(sync_run_id=started.pk)


def test_access_at_equals_effective_access_right_after_every_sync(fake_org: FakeOrg) -> None:
    account = fake_org.add_account()
    assert run(account).status == SyncRun.Status.SUCCEEDED
    first = history_since(account)
    assert first is not None
    rows = effective_access(account)
    assert len(rows) > 20 and as_seen(access_at(account, first)) == as_seen(rows)

    data = fake_org.data
    vault = data["vaults"][0]
    user = data["users"][0]
    fake_account.set_user_grant(fake_org.path, vault["id"], user["id"], ["allow_managing"])
    fake_account.set_user_state(fake_org.path, data["users"][1]["id"], "SUSPENDED")
    assert run(account).status == SyncRun.Status.SUCCEEDED
    second = UserSpan.objects.filter(account=account).latest("valid_from").valid_from

    assert second > first
    assert as_seen(access_at(account, second)) == as_seen(effective_access(account)) != as_seen(rows)
    assert as_seen(access_at(account, first)) == as_seen(rows)  # the past did not move
    assert history_since(account) == first


def test_a_sync_with_nothing_changed_records_nothing(fake_org: FakeOrg) -> None:
    account = fake_org.add_account()
    run(account)
    before = span_rows()

    assert run(account).status == SyncRun.Status.SUCCEEDED
    assert span_rows() == before


def test_a_failed_sync_records_nothing(fake_org: FakeOrg) -> None:
    account = fake_org.add_account()
    run(account)
    before = span_rows()
    fake_account.archive_item(fake_org.path, fake_org.data["items"][0]["id"])
    fake_account.revoke_token(fake_org.path, fake_org.token)

    assert run(account).status == SyncRun.Status.FAILED
    assert span_rows() == before


def test_a_failed_first_sync_starts_no_history(fake_org: FakeOrg) -> None:
    account = fake_org.add_account()
    fake_account.revoke_token(fake_org.path, fake_org.token)

    assert run(account).status == SyncRun.Status.FAILED
    assert history_since(account) is None and span_rows() == 0


# --- a person's classification change ----------------------------------------------------------


def test_reclassifying_a_vault_in_the_app_is_recorded_at_once(
        org: dict[str, Any], admin_user: User, client_for: Callable[[User], Client]) -> None:
    account, vault = org["account"], org["vault"]
    record_history(account, at=T0)

    response = client_for(admin_user).post(reverse("vaults:settings", args=[vault.pk]), {"classification": "shared"})

    assert response.status_code == 302
    [now] = open_spans(VaultSpan, op_id=vault.op_id)
    assert now.classification == "shared" and now.valid_from > T0
    assert VaultSpan.objects.get(op_id=vault.op_id, valid_to=now.valid_from).classification == "production"


def test_reclassifying_during_a_sync_records_the_vault_but_not_half_synced_items(
        org: dict[str, Any], admin_user: User, client_for: Callable[[User], Client]) -> None:
    """Items a running sync has stored but not yet finished (here: one added behind history's back)
    become history only when a sync succeeds, never through a person's reclassification."""
    account, vault = org["account"], org["vault"]
    record_history(account, at=T0)
    items_before = ItemSpan.objects.count()
    half_synced = make_item(vault=vault, title="Listed by a sync still running", category="DATABASE")

    client_for(admin_user).post(reverse("vaults:settings", args=[vault.pk]), {"classification": "shared"})

    [now] = open_spans(VaultSpan, op_id=vault.op_id)
    assert now.classification == "shared"
    assert ItemSpan.objects.count() == items_before
    assert not ItemSpan.objects.filter(op_id=half_synced.op_id).exists()


def test_an_owner_change_alone_records_nothing(
        org: dict[str, Any], admin_user: User, team_lead: User, client_for: Callable[[User], Client]) -> None:
    account, vault = org["account"], org["vault"]
    record_history(account, at=T0)
    before = span_rows()

    client_for(admin_user).post(reverse("vaults:settings", args=[vault.pk]),
                                {"classification": "production", "owner": team_lead.pk})

    assert span_rows() == before


def test_reclassifying_before_the_first_sync_starts_no_history(
        org: dict[str, Any], admin_user: User, client_for: Callable[[User], Client]) -> None:
    client_for(admin_user).post(reverse("vaults:settings", args=[org["vault"].pk]), {"classification": "shared"})

    assert history_since(org["account"]) is None and span_rows() == 0


def test_access_changes_replayed_recording_by_recording_equal_the_difference_of_whole_states() -> None:
    """Random organisation changes over 30 recordings: what `access_changes` replays incrementally
    equals the difference between `access_at` the recording before and after, computed whole."""
    rng = random.Random(1313)
    account = make_account()
    vaults = [make_vault(account=account, name=f"Vault {n}") for n in range(4)]
    users = [make_op_user(account=account, name=f"Person {n}") for n in range(6)]
    groups = [make_op_group(account=account, name=f"Group {n}", members=rng.sample(users, 2)) for n in range(3)]
    rights = [["allow_viewing"], ["allow_viewing", "allow_editing"], ["manage_vault"]]
    moments = [T0 + datetime.timedelta(hours=n) for n in range(30)]
    record_history(account, at=moments[0])
    for moment in moments[1:]:
        for _ in range(3):
            vault, user, group = rng.choice(vaults), rng.choice(users), rng.choice(groups)
            action = rng.choice(["user grant", "group grant", "member", "unmember", "revoke", "group gone", "vault gone"])
            if action == "user grant":
                VaultGrant.objects.update_or_create(vault=vault, user=user, defaults={"permissions": rng.choice(rights)})
            elif action == "group grant":
                VaultGrant.objects.update_or_create(vault=vault, group=group, defaults={"permissions": rng.choice(rights)})
            elif action == "member":
                GroupMembership.objects.get_or_create(group=group, user=user)
            elif action == "unmember":
                GroupMembership.objects.filter(group=group, user=user).delete()
            elif action == "revoke":
                VaultGrant.objects.filter(pk__in=VaultGrant.objects.filter(vault=vault).values("pk")[:1]).delete()
            elif action == "group gone":
                OpGroup.objects.filter(pk=group.pk).update(removed_at=None if rng.random() < 0.5 else moment)
            else:
                Vault.objects.filter(pk=vault.pk).update(removed_at=None if rng.random() < 0.7 else moment)
        record_history(account, at=moment)

    def state(at: datetime.datetime) -> dict[tuple[str, str], frozenset[str]]:
        return {(r.user.op_id, r.vault.op_id): r.permissions for r in access_at(account, at)}

    expected = []
    for before, after in itertools.pairwise(moments):
        old, new = state(before), state(after)
        for key in sorted(old.keys() | new.keys()):
            if old.get(key) != new.get(key):
                kind = "granted" if key not in old else "removed" if key not in new else "modified"
                expected.append((after, kind, *key, old.get(key, frozenset()), new.get(key, frozenset())))
    replayed = sorted((c.at, c.change, c.user.op_id, c.vault.op_id, c.before, c.after)
                      for c in access_changes([account], T0, moments[-1] + datetime.timedelta(hours=1)))

    assert len(expected) > 10
    assert replayed == sorted(expected)
