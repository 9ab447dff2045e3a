"""`AnyOf(F(column), values)`: `column = ANY(%s)` with the values as one array parameter.

An incremental run's queries name the ~1,200 items a 1% change touched (bench/bench_findings.py),
in each rule and in reading the stored findings. As `IN (%s, %s, ...)` Django prepared every value
and psycopg split every statement at ~1,200 placeholders, ~0.2 s of a 2 s run; one array parameter
costs neither. SQLite, which has no arrays, keeps `IN`.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BooleanField, Lookup
from django.db.models.sql.compiler import SQLCompiler


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False  # the whole list is the parameter, not a value of the column
    output_field = BooleanField()

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if not values:
            return "FALSE", []
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]
