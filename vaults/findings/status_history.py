"""Findings' status history: the one writer and the "as of" reader of `FindingStatusSpan`.

A finding row says how it is now; the engine and the people accepting risks rewrite it in place.
Reports for a closed period read the span open at the period's end instead (issue #13). Writing is
a reconciliation, not an event log: `record` makes each named finding's open span match its row
(same status and severity) by closing the one that differs and opening one from the row, so
calling it for a finding that did not change writes nothing, and calling it twice is harmless.
Both statements are set-based (INSERT ... SELECT from the findings table): a first run creates
~130k findings and a policy change can move the severity of thousands.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Q

from vaults.findings.id_chunks import chunks
from vaults.findings.models import Finding, FindingStatusSpan
from vaults.models import Account

# Their details (changed_at, period_days) are copied into the span: a closed period's rotation
# table computes the age at its end from them. Other kinds' details are not needed and can be long.
DETAILED_KINDS = (Finding.Kind.OVERDUE_ROTATION.value, Finding.Kind.ROTATION_DUE_SOON.value)
PRESENT = (Finding.Status.OPEN, Finding.Status.ACCEPTED)


def open_at(moment: datetime.datetime) -> Q:
    """Spans true at `moment`: opened at or before it, not closed by it (as vaults.history.open_at)."""
    return Q(valid_from__lte=moment) & (Q(valid_to__isnull=True) | Q(valid_to__gt=moment))




def _tables() -> tuple[str, str]:
    quote = connection.ops.quote_name
    return quote(FindingStatusSpan._meta.db_table), quote(Finding._meta.db_table)


def _open_missing(
    where: str, params: list[Any], *, spans_where: str, spans_params: list[Any], at: datetime.datetime
) -> None:
    """Open a span from the row for every finding matched by `where` (over alias f) that has none
    open. The open spans are read once, before the insert (`spans_where` narrows them, over alias
    s): an anti-join on the table being inserted into was planned, on the first run's empty
    statistics, as a scan of the span table per finding, which also steps over the rows this very
    statement inserted — quadratic, 13 minutes for 134k new findings under load."""
    span, finding = _tables()
    kinds = ", ".join(["%s"] * len(DETAILED_KINDS))
    materialized = "MATERIALIZED " if connection.vendor == "postgresql" else ""
    sql = (
        f"WITH open_spans AS {materialized}(SELECT s.finding_id FROM {span} s WHERE s.valid_to IS NULL AND {spans_where}) "  # noqa: S608 — constant names
        f"INSERT INTO {span} (finding_id, account_id, kind, status, severity, details, valid_from, valid_to) "
        f"SELECT f.id, f.account_id, f.kind, f.status, f.severity, "
        f"CASE WHEN f.kind IN ({kinds}) THEN f.details ELSE NULL END, %s, NULL FROM {finding} f "
        f"WHERE {where} AND NOT EXISTS (SELECT 1 FROM open_spans o WHERE o.finding_id = f.id)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*spans_params, *DETAILED_KINDS, at, *params])


def record(*, finding_ids: Sequence[int], at: datetime.datetime) -> None:
    """1. Close, at `at`, the open span of each finding whose status or severity now differs.
    2. Open a span from the row for each of them that has none open (new, or just closed)."""
    span, finding = _tables()
    for chunk in chunks(list(finding_ids)):
        marks = ", ".join(["%s"] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {span} SET valid_to = %s WHERE valid_to IS NULL AND finding_id IN ({marks}) "  # noqa: S608 — constant names
                f"AND EXISTS (SELECT 1 FROM {finding} f WHERE f.id = {span}.finding_id "
                f"AND (f.status <> {span}.status OR f.severity <> {span}.severity))",
                [at, *chunk],
            )
        _open_missing(
            f"f.id IN ({marks})", list(chunk), spans_where=f"s.finding_id IN ({marks})", spans_params=list(chunk), at=at
        )


def record_new(*, account: Account, first_seen: datetime.datetime) -> None:
    """Open the first span of the findings one engine run created (they share `first_seen`)."""
    _open_missing(
        "f.account_id = %s AND f.first_seen = %s", [account.pk, first_seen],
        # A finding first seen now has no span older than now.
        spans_where="s.account_id = %s AND s.valid_from >= %s", spans_params=[account.pk, first_seen], at=first_seen,
    )  # fmt: skip
