"""`op item get -`: read several items in one process. The items to read arrive on stdin as the
JSON `op item list --format json` prints (a list of objects with "id" and "vault": {"id"}; a
stream of such objects is accepted too), and each item's JSON is printed one after another.

What real op does when one item of a batch fails is not documented. The fake's behaviour:
1. FAKE_OP_BATCH_ON_ERROR unset or "continue": an item that does not exist is skipped with op's
   own not-found line on stderr (`"<id>" isn't an item in the "<vault>" vault. ...`); the other
   items are printed; the exit code is 1 when any item failed.
2. FAKE_OP_BATCH_ON_ERROR="stop": reading stops at the first failed item (its error on stderr,
   exit 1); the items before it are printed, the ones after it are not.
3. Rate limit (FAKE_OP_RATE_LIMIT_AFTER counts requests): the requests that fit in the window are
   served and printed, the rest refused with op's 429 text, exit 4.
The text printed for input that is not such JSON is the fake's own (op's is not on record).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from vaults.fake_op import errors

BATCH_ARGUMENT = "-"


@dataclass(frozen=True)
class Ref:
    item_id: str
    vault_id: str | None


@dataclass
class BatchOutput:
    items: list[Any] = field(default_factory=list)
    failures: list[errors.FakeOpError] = field(default_factory=list)


def is_batch(command: str, args: list[str]) -> bool:
    return command == "item get" and args[:1] == [BATCH_ARGUMENT]


def _bad_input(what: str) -> errors.FakeOpError:
    return errors.usage(f"fake op: cannot read the items on standard input: {what}")


def read_refs(raw: bytes) -> list[Ref]:
    """The items asked for, in order, from `op item list`-shaped JSON (list or stream)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad_input("not UTF-8") from None
    decoder = json.JSONDecoder()
    values: list[Any] = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            break
        try:
            value, position = decoder.raw_decode(text, position)
        except ValueError:
            raise _bad_input("not JSON") from None
        values.extend(value if isinstance(value, list) else [value])
    refs = []
    for value in values:
        item_id = value.get("id") if isinstance(value, dict) else None
        if not isinstance(item_id, str) or not item_id:
            raise _bad_input('an entry has no "id"')
        vault = value.get("vault")
        vault_id = vault.get("id") if isinstance(vault, dict) else None
        refs.append(Ref(item_id, vault_id if isinstance(vault_id, str) and vault_id else None))
    if not refs:
        raise _bad_input("no items")
    return refs


def stops_at_first_error() -> bool:
    return os.environ.get("FAKE_OP_BATCH_ON_ERROR", "").strip() == "stop"
