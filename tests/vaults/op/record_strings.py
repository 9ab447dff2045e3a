"""Every piece of text a parsed record holds, for secret-safety assertions."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any


def texts_in(record: Any) -> Iterator[str]:
    """repr() of the record, then every str leaf reached through dataclass fields and tuples."""
    yield repr(record)
    yield from _leaves(record)


def _leaves(value: Any) -> Iterator[str]:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _leaves(getattr(value, field.name))
    elif isinstance(value, tuple | list):
        for element in value:
            yield from _leaves(element)
    elif isinstance(value, str):
        yield value
    else:
        yield repr(value)


def assert_absent(secret: str, record: Any) -> None:
    for text in texts_in(record):
        assert secret not in text, "a secret value reached a parsed record"
