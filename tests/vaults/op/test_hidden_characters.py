"""Issue #14 item 4: bidi controls and invisible characters never reach `op`.

The command builders raise a typed `OpHiddenCharacters` naming the code points; real text in
Arabic, Hebrew, Persian (with its ZWNJ) and emoji (with ZWJ sequences) is built as given."""

from __future__ import annotations

import pytest

from vaults.op import OpHiddenCharacters, OpInvalidArgument, commands
from vaults.op.hidden_characters import hidden_code_points

ITEM = "nnotgv5xwrhjbdj6bt3rugrijy"
VAULT = "gshlsjsajnawtnjynzgwmiebge"

HIDDEN = [
    ("Invoice \u202egpj.exe", "U+202E"),  # right-to-left override
    ("a\u202ab", "U+202A"), ("a\u202bb", "U+202B"), ("a\u202cb", "U+202C"), ("a\u202db", "U+202D"),
    ("a\u2066b", "U+2066"), ("a\u2067b", "U+2067"), ("a\u2068b", "U+2068"), ("a\u2069b", "U+2069"),
    ("a\u200eb", "U+200E"), ("a\u200fb", "U+200F"), ("a\u061cb", "U+061C"),
    ("pass\u200bword", "U+200B"), ("pass\u200cword", "U+200C"), ("pass\u200dword", "U+200D"),
    ("a\u2060b", "U+2060"), ("\ufeffBOM title", "U+FEFF"), ("soft\u00adhyphen", "U+00AD"),
    ("a\u3164b", "U+3164"), ("a\u2028b", "U+2028"), ("a\u0085b", "U+0085"), ("flag\U000e0067", "U+E0067"),
    ("\u200d\U0001f469", "U+200D"),  # a joiner with nothing to join before it
]  # fmt: skip

LEGITIMATE = [
    "مفتاح واجهة برمجة التطبيقات للإنتاج",  # Arabic
    "מפתח API לייצור",  # Hebrew
    "Jira שלום Production",  # mixed directions, no controls
    "می\u200cخواهم",  # noqa: RUF001  (Persian, with its zero-width non-joiner between letters)
    "Deploy 🚀 key ✅",
    "Team 👩\u200d💻 laptop",  # emoji ZWJ sequence
    "Love ❤\ufe0f\u200d🔥",  # variation selector then ZWJ
    "Thumbs 👍🏽",  # skin-tone modifier
    "Café Zürich — Prod",
    "日本語のタイトル",
]


@pytest.mark.parametrize(("text", "code_point"), HIDDEN)
def test_hidden_characters_are_named_by_code_point(text: str, code_point: str) -> None:
    assert hidden_code_points(text) == [code_point]


@pytest.mark.parametrize("text", LEGITIMATE)
def test_real_scripts_and_emoji_have_no_hidden_characters(text: str) -> None:
    assert hidden_code_points(text) == []


def test_ordinary_whitespace_is_not_hidden() -> None:
    assert hidden_code_points("a b\tc\nd\re\u00a0f") == []


@pytest.mark.parametrize(("text", "code_point"), HIDDEN)
def test_the_title_builder_refuses_hidden_characters_with_a_typed_error(text: str, code_point: str) -> None:
    with pytest.raises(OpInvalidArgument) as refused:
        commands.item_edit_title(ITEM, VAULT, text)
    assert isinstance(refused.value, OpHiddenCharacters)
    assert refused.value.code_points == [code_point]
    assert code_point in str(refused.value)
    assert text not in str(refused.value)  # the value itself is never echoed


def test_tag_and_url_builders_refuse_hidden_characters_too() -> None:
    with pytest.raises(OpHiddenCharacters):
        commands.item_edit_tags(ITEM, VAULT, ["prod", "pay\u202ement"])
    with pytest.raises(OpHiddenCharacters):
        commands.item_edit_url(ITEM, VAULT, "https://example.com/\u202eevil")


@pytest.mark.parametrize("text", LEGITIMATE)
def test_the_title_builder_passes_real_scripts_and_emoji_unchanged(text: str) -> None:
    assert commands.item_edit_title(ITEM, VAULT, text).args[-1] == f"--title={text}"
