"""Reports say which part of their period item usage was measured: figures of "unused" and usage
counts stand only on measured time (issue: usage claimed where none was measured)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import pytest

from compliance.reports.builders import build_report
from compliance.reviews.periods import parse_period
from tests.vaults import factories as f
from vaults.models import Account

pytestmark = pytest.mark.django_db

PERIOD = parse_period("2026Q2")
AFTER = PERIOD.end + datetime.timedelta(days=30)


def _coverage_rows(account_names: list[str]) -> Mapping[Any, tuple[object, ...]]:  # keyed by the first cell (the account)
    # The accounts were added to OpenClaw before the period (a report covers those, and those with
    # data in it: compliance/reports/builders.py accounts_in_scope).
    Account.objects.filter(name__in=account_names).update(created_at=PERIOD.start - datetime.timedelta(days=60))
    document = build_report(kind="soc2", period=PERIOD, generator="tester", now=AFTER)
    table = next(t for s in document.sections if s.key == "usage_coverage" for t in s.tables)
    rows = {row[0]: row for row in table.top}
    assert set(account_names) <= set(rows)
    return rows


def _used_at(account, when):
    vault = f.make_vault(account=account, name=f"{account.name} Production")
    item = f.make_item(vault=vault, title="Stripe Production API Key")
    f.make_usage(account=account, user=f.make_op_user(account=account), item=item, when=when)


def test_each_account_says_whether_usage_was_measured_over_the_whole_period_part_of_it_or_not_at_all():
    whole = f.make_account(name="Measured all along", events_url="https://events.example")
    _used_at(whole, PERIOD.start - datetime.timedelta(days=3))
    part = f.make_account(name="Measured from mid-May", events_url="https://events.example")
    _used_at(part, PERIOD.start + datetime.timedelta(days=45))
    f.make_account(name="No Events API")
    silent = f.make_account(name="Events API, nothing delivered", events_url="https://events.example")
    assert silent.pk

    rows = _coverage_rows(["Measured all along", "Measured from mid-May", "No Events API", "Events API, nothing delivered"])

    assert rows["Measured all along"][3] == "Whole period"
    assert rows["Measured from mid-May"][3] == f"From {PERIOD.start + datetime.timedelta(days=45):%Y-%m-%d} only"
    assert rows["No Events API"][1:] == ("None configured", None, "No usage data")
    assert rows["Events API, nothing delivered"][2:] == (None, "No usage data")


def test_usage_that_starts_after_the_period_does_not_cover_it():
    late = f.make_account(name="Connected later", events_url="https://events.example")
    _used_at(late, PERIOD.end + datetime.timedelta(days=5))

    assert _coverage_rows(["Connected later"])["Connected later"][3] == "No usage data"
