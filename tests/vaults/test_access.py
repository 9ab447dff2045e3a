from __future__ import annotations

import pytest
from django.utils import timezone

from tests.vaults.factories import grant, make_account, make_op_group, make_op_user, make_vault
from vaults.access import access_pairs, effective_access, normalise_permissions, vault_counts_by_user

pytestmark = pytest.mark.django_db


def test_both_op_permission_styles_normalise_to_granular_names() -> None:
    assert normalise_permissions(["allow_viewing", "ALLOW_MANAGING", " export_items ", ""]) == {
        "view_items", "view_and_copy_passwords", "view_item_history", "manage_vault", "export_items",
    }  # fmt: skip


def test_malformed_permission_entries_are_skipped_and_lists_decode_alike_each_time() -> None:
    malformed = ["view_items", ["export_items"], {"manage_vault": True}, 5, None]
    assert normalise_permissions(malformed) == normalise_permissions(malformed) == {"view_items"}
    assert normalise_permissions(iter(["allow_managing"])) == {"manage_vault"}  # any iterable, once
    assert normalise_permissions(["EDIT_ITEMS"]) != normalise_permissions(["view_items"])


def test_direct_and_group_paths_merge_into_one_row_per_user_and_vault() -> None:
    account = make_account()
    vault = make_vault(account=account, name="Payments Production")
    dana = make_op_user(account=account, name="Dana")
    group = make_op_group(account=account, name="Payments", members=[dana])
    grant(vault=vault, user=dana, permissions=["allow_viewing"])
    grant(vault=vault, group=group, permissions=["view_items", "edit_items"])

    [row] = effective_access(account)

    assert row.user == dana and row.vault == vault
    assert row.via_direct is True
    assert row.via_groups == ("Payments",)
    assert row.permissions == {"view_items", "view_and_copy_passwords", "view_item_history", "edit_items"}
    assert row.direct_permissions == {"view_items", "view_and_copy_passwords", "view_item_history"}


def test_access_through_two_groups_lists_both_group_names() -> None:
    account = make_account()
    vault = make_vault(account=account)
    dana = make_op_user(account=account)
    for name in ("Ops", "Dev"):
        grant(vault=vault, group=make_op_group(account=account, name=name, members=[dana]))

    [row] = effective_access(account, vault=vault)

    assert row.via_direct is False
    assert row.via_groups == ("Dev", "Ops")


def test_removed_vaults_and_removed_groups_grant_nothing() -> None:
    account = make_account()
    gone_vault = make_vault(account=account, removed_at=timezone.now())
    vault = make_vault(account=account)
    dana = make_op_user(account=account)
    grant(vault=gone_vault, user=dana)
    grant(vault=vault, group=make_op_group(account=account, members=[dana], removed_at=timezone.now()))

    assert effective_access(account) == []
    assert access_pairs(account) == set()


def test_suspended_users_still_show_their_access() -> None:
    account = make_account()
    vault = make_vault(account=account)
    gone = make_op_user(account=account, state="SUSPENDED")
    grant(vault=vault, user=gone)

    assert [row.user for row in effective_access(account)] == [gone]


def test_filtering_by_user_returns_only_that_users_rows() -> None:
    account = make_account()
    vault = make_vault(account=account)
    dana, eve = make_op_user(account=account, name="Dana"), make_op_user(account=account, name="Eve")
    grant(vault=vault, group=make_op_group(account=account, members=[dana, eve]))

    assert [row.user for row in effective_access(account, user=eve)] == [eve]


def test_vault_counts_count_each_vault_once_per_user() -> None:
    account = make_account()
    v1, v2 = make_vault(account=account, name="A"), make_vault(account=account, name="B")
    dana = make_op_user(account=account)
    group = make_op_group(account=account, members=[dana])
    grant(vault=v1, user=dana)
    grant(vault=v1, group=group)
    grant(vault=v2, group=group)

    assert vault_counts_by_user(account) == {dana.pk: 2}


def test_other_accounts_grants_are_not_seen() -> None:
    mine, theirs = make_account(), make_account()
    grant(vault=make_vault(account=theirs), user=make_op_user(account=theirs))

    assert effective_access(mine) == []
