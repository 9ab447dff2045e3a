"""argv lists and request costs; hostile values never become flags."""

from __future__ import annotations

import pytest

from vaults.op import commands
from vaults.op.errors import OpInvalidArgument

ITEM = "nnotgv5xwrhjbdj6bt3rugrijy"
VAULT = "gshlsjsajnawtnjynzgwmiebge"
OTHER_VAULT = "yv7w5ijyxbdhxgh3njphwsxujy"
USER = "5GHHPJK5HZC5BAT7WDUXW57G44"
GROUP = "g4jgqqvmizfbvi3oavcafz4y7a"


def test_it_gets_an_item_by_ids_with_reveal_for_one_request() -> None:
    command = commands.item_get(ITEM, VAULT)
    assert command.argv("op") == ["op", "--format", "json", "item", "get", ITEM, "--vault", VAULT, "--reveal"]
    assert command.request_cost == 1
    assert not command.is_write


def test_it_lists_items_of_one_vault_for_two_requests() -> None:
    assert commands.item_list(VAULT).args == ("--format", "json", "item", "list", "--vault", VAULT)
    assert commands.item_list(VAULT, include_archive=True).args[-1] == "--include-archive"
    assert commands.item_list(VAULT).request_cost == 2


def test_it_costs_an_item_edit_five_reads_and_one_write() -> None:
    command = commands.item_edit_title(ITEM, VAULT, "New title")
    assert (command.reads, command.writes, command.request_cost) == (5, 1, 6)
    assert command.is_write


def test_it_always_starts_with_format_json() -> None:
    built = [
        commands.whoami(), commands.vault_list(), commands.vault_get(VAULT), commands.user_list(),
        commands.group_list(), commands.vault_user_list(VAULT), commands.vault_group_list(VAULT),
        commands.group_user_list(GROUP), commands.service_account_ratelimit(),
        commands.item_edit_tags(ITEM, VAULT, ["a"]), commands.item_edit_url(ITEM, VAULT, "https://x.example"),
        commands.item_generate_password(ITEM, VAULT), commands.item_archive(ITEM, VAULT),
        commands.item_move(ITEM, current_vault_id=VAULT, destination_vault_id=OTHER_VAULT),
        commands.vault_user_revoke(VAULT, USER, ["allow_editing"]),
        commands.vault_group_revoke(VAULT, GROUP, ["allow_editing"]),
    ]  # fmt: skip
    for command in built:
        assert command.args[:2] == ("--format", "json"), command.name
        assert command.request_cost >= 1


@pytest.mark.parametrize(
    "hostile", ["--help", "-h", "", "x" * 25, "x" * 27, "abc def ghijklmnopqrstuvwxyz", "a=b" + "c" * 23, "ẞ" * 26]
)
def test_it_refuses_anything_but_an_op_id(hostile: str) -> None:
    with pytest.raises(OpInvalidArgument):
        commands.item_get(hostile, VAULT)
    with pytest.raises(OpInvalidArgument):
        commands.vault_user_revoke(VAULT, hostile, ["allow_viewing"])


def test_it_does_not_echo_a_refused_id() -> None:
    with pytest.raises(OpInvalidArgument) as caught:
        commands.vault_get("--some-secret-looking-value")
    assert "--some-secret-looking-value" not in str(caught.value)


@pytest.mark.parametrize(
    "title", ["--vault=Private", "-rf", "username=root", "<script>alert(1)</script>", '=HYPERLINK("x")']
)
def test_it_passes_a_hostile_title_as_one_flag_value(title: str) -> None:
    args = commands.item_edit_title(ITEM, VAULT, title).args
    assert args[-1] == f"--title={title}"
    assert args.count(ITEM) == 1 and len(args) == 8


@pytest.mark.parametrize("title", ["", "   ", "a\nb", "nul\x00byte", "x" * 10_001])
def test_it_refuses_titles_op_cannot_take(title: str) -> None:
    with pytest.raises(OpInvalidArgument):
        commands.item_edit_title(ITEM, VAULT, title)


def test_it_joins_tags_once_each_and_refuses_commas() -> None:
    assert commands.item_edit_tags(ITEM, VAULT, ["prod", " db ", "prod"]).args[-1] == "--tags=prod,db"
    with pytest.raises(OpInvalidArgument):
        commands.item_edit_tags(ITEM, VAULT, ["a,b"])


def test_it_moves_between_two_different_vaults() -> None:
    command = commands.item_move(ITEM, current_vault_id=VAULT, destination_vault_id=OTHER_VAULT)
    assert command.args[2:] == ("item", "move", ITEM, "--current-vault", VAULT, "--destination-vault", OTHER_VAULT)
    with pytest.raises(OpInvalidArgument):
        commands.item_move(ITEM, current_vault_id=VAULT, destination_vault_id=VAULT)


def test_it_can_only_delete_an_item_into_the_archive() -> None:
    assert commands.item_archive(ITEM, VAULT).args[2:] == ("item", "delete", ITEM, "--vault", VAULT, "--archive")
    builders = [name for name in dir(commands) if "delete" in name.lower()]
    assert builders == []


def test_it_validates_the_password_recipe() -> None:
    assert commands.item_generate_password(ITEM, VAULT).args[-1] == "--generate-password=letters,digits,symbols,32"
    for bad in ["letters,4", "letters;rm,32", "--vault,32", "letters,digits,999"]:
        with pytest.raises(OpInvalidArgument):
            commands.item_generate_password(ITEM, VAULT, bad)


def test_it_revokes_named_permissions_only() -> None:
    args = commands.vault_user_revoke(VAULT, USER, ["allow_editing", "allow_managing"]).args
    assert args[2:] == ("vault", "user", "revoke", "--vault", VAULT, "--user", USER, "--permissions",
                        "allow_editing,allow_managing")  # fmt: skip
    group = commands.vault_group_revoke(VAULT, GROUP, ["allow_viewing"])
    assert group.args[2:] == ("vault", "group", "revoke", "--vault", VAULT, "--group", GROUP, "--permissions",
                              "allow_viewing")  # fmt: skip
    assert (group.name, group.ids) == ("vault group revoke", (VAULT, GROUP))
    for bad in [[], ["--all"], ["ALLOW_EDITING"], ["a,b"]]:
        with pytest.raises(OpInvalidArgument):
            commands.vault_group_revoke(VAULT, GROUP, bad)
