"""How many ids one `WHERE id IN (...)` statement of the findings code takes. SQLite's floor is
999 variables per statement; PostgreSQL takes 65,535 parameters, and fewer, larger statements
save round trips."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

from django.db import connection

T = TypeVar("T")


def id_chunk() -> int:
    return 900 if connection.vendor == "sqlite" else 30_000


def chunks(values: Sequence[T]) -> Iterator[Sequence[T]]:
    size = id_chunk()
    for start in range(0, len(values), size):
        yield values[start : start + size]
