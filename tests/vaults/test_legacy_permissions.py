"""Teams accounts (and op 2.6) print broad `allow_*` permissions; each stands for every granular
permission 1Password documents it as including (developer.1password.com/docs/cli/vault-permissions)."""

from __future__ import annotations

import json

import pytest

from tests.op_samples import sample_json
from tests.vaults.factories import grant, make_account, make_op_group, make_op_user, make_vault
from vaults.access import ELEVATED_PERMISSIONS, effective_access, normalise_permissions
from vaults.op import parse

TEAMS_TO_GRANULAR = [
    ("allow_viewing", {"view_items", "view_and_copy_passwords", "view_item_history"}),
    (
        "allow_editing",
        {"create_items", "edit_items", "archive_items", "delete_items", "import_items", "export_items",
         "copy_and_share_items", "print_items"},
    ),
    ("allow_managing", {"manage_vault"}),
    ("ALLOW_EDITING", {"create_items", "edit_items", "archive_items", "delete_items", "import_items", "export_items",
                       "copy_and_share_items", "print_items"}),
]


@pytest.mark.parametrize(("broad", "granular"), TEAMS_TO_GRANULAR)
def test_each_broad_teams_permission_becomes_every_granular_permission_it_includes(broad: str, granular: set[str]) -> None:
    assert normalise_permissions([broad]) == granular


def test_a_modern_granular_list_is_left_exactly_as_it_is() -> None:
    modern = ["view_items", "edit_items", "view_and_copy_passwords"]

    assert normalise_permissions(modern) == set(modern)  # no export, print or share added


def test_names_that_only_look_like_broad_ones_are_not_expanded() -> None:
    assert normalise_permissions(["allow_editing_items", "editing", "allow_"]) == {"allow_editing_items", "editing", "allow_"}


@pytest.mark.django_db
def test_a_teams_editor_is_an_export_right_holder_and_a_viewer_is_not() -> None:
    account = make_account()
    vault = make_vault(account=account, name="Payments Production")
    editor = make_op_user(account=account, name="Editor")
    viewer = make_op_user(account=account, name="Viewer")
    grant(vault=vault, user=editor, permissions=["allow_viewing", "allow_editing"])
    grant(vault=vault, user=viewer, permissions=["allow_viewing"])

    rows = {row.user.name: row for row in effective_access(account)}

    assert "export_items" in rows["Editor"].permissions
    assert rows["Editor"].elevated_direct == {"export_items"}
    assert "export_items" not in rows["Viewer"].permissions
    assert rows["Viewer"].elevated_direct == set()


@pytest.mark.django_db
def test_a_teams_group_editor_reaches_export_through_the_group() -> None:
    account = make_account()
    vault = make_vault(account=account)
    member = make_op_user(account=account)
    grant(vault=vault, group=make_op_group(account=account, members=[member]), permissions=["allow_editing"])

    [row] = effective_access(account)

    assert {"export_items", "print_items", "copy_and_share_items"} <= row.permissions
    assert row.elevated_direct == set()  # via a group, not a direct grant


def test_the_op_2_6_sample_editors_hold_export_and_the_manager_manages() -> None:
    grants = parse.parse_vault_user_list(json.dumps(sample_json("vault-user-list_blog-kenzauros_2.6.0.json")).encode())

    rights = {g.name: normalise_permissions(g.permissions) for g in grants}

    assert rights["Kenji YAMADA"] & ELEVATED_PERMISSIONS == {"export_items", "manage_vault"}
    assert rights["Inai HITO"] & ELEVATED_PERMISSIONS == {"export_items"}
    assert grants[0].permissions == ("allow_viewing", "allow_editing", "allow_managing")  # stored verbatim
