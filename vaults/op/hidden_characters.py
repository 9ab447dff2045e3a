"""Characters that change how text *looks* without being seen (issue #14 item 4).

A title holding U+202E RIGHT-TO-LEFT OVERRIDE displays reversed, so the approver of a rename can
read something other than what `op item edit --title=…` runs. These characters are refused in
every value passed to `op` (`commands.py`), in the cleanup edit form, and shown as visible code
points on every page (`inventory_ui.isolated`).

Hidden means:
1. bidirectional controls: U+202A to U+202E, U+2066 to U+2069, U+200E, U+200F, U+061C;
2. invisible characters: every format (Cf) character (U+200B, U+2060, U+FEFF, soft hyphen, tag
   characters…), control (Cc) characters other than tab, line feed and carriage return, line and
   paragraph separators (Zl, Zp), and letters or marks that render as nothing (Hangul fillers,
   U+034F, Khmer U+17B4/U+17B5).

One exception keeps real text working: ZERO WIDTH JOINER and NON-JOINER (U+200D, U+200C) are
part of emoji sequences (👩‍💻), Persian and Indic spelling, so they are allowed *between two
non-ASCII visible characters*. Between ASCII letters ("pass\u200dword") they have no use but
spoofing and count as hidden. Emoji tag sequences (the flags of England, Scotland, Wales) use
Cf tag characters and are refused: a small loss against a simple rule.
"""

from __future__ import annotations

import unicodedata

BIDI_CONTROLS = frozenset({*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C})
# Not Cf, yet they draw nothing: used to make two different strings look the same.
_INVISIBLE_NON_FORMAT = frozenset({0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0})
_JOINERS = frozenset({0x200C, 0x200D})
_ORDINARY_WHITESPACE = frozenset("\t\n\r")
_HIDDEN_CATEGORIES = frozenset({"Cf", "Cc", "Zl", "Zp"})
_JOINABLE_CATEGORY_PREFIXES = ("L", "M", "So", "Sk")


def _is_hidden_alone(char: str) -> bool:
    """Hidden whatever surrounds it (joiners are decided by `_joiner_is_legitimate`)."""
    code = ord(char)
    if char in _ORDINARY_WHITESPACE:
        return False
    return code in BIDI_CONTROLS or code in _INVISIBLE_NON_FORMAT or unicodedata.category(char) in _HIDDEN_CATEGORIES


def _joins_visibly(char: str) -> bool:
    return (
        ord(char) > 0x7F
        and not _is_hidden_alone(char)
        and unicodedata.category(char).startswith(_JOINABLE_CATEGORY_PREFIXES)
    )


def _joiner_is_legitimate(text: str, index: int) -> bool:
    return 0 < index < len(text) - 1 and _joins_visibly(text[index - 1]) and _joins_visibly(text[index + 1])


def hidden_character_indexes(text: str) -> list[int]:
    """Positions in `text` of every hidden character, in order."""
    found = []
    for index, char in enumerate(text):
        if ord(char) in _JOINERS:
            if not _joiner_is_legitimate(text, index):
                found.append(index)
        elif _is_hidden_alone(char):
            found.append(index)
    return found


def code_point(char: str) -> str:
    """`U+202E`: how a hidden character is named to a person."""
    return f"U+{ord(char):04X}"


def hidden_code_points(text: str) -> list[str]:
    """Distinct hidden characters of `text` as `U+XXXX`, in order of first appearance."""
    names: list[str] = []
    for index in hidden_character_indexes(text):
        name = code_point(text[index])
        if name not in names:
            names.append(name)
    return names
