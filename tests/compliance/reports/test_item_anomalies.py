"""Anomalies per item, not only per person: one key used from three addresses by three people
within a minute is flagged; one person using one item from one address many times is not."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from compliance.reports.evidence import Evidence
from compliance.reviews.periods import period_containing
from tests.vaults import factories as f
from vaults.models import ItemUsage, Vault

SPREAD = "One item from several addresses at once"


@pytest.fixture
def prod(db):
    account = f.make_account(name="Acme")
    vault = f.make_vault(account=account, name="Payments Production", classification=Vault.Classification.PRODUCTION)
    return account, vault


def _use(account, user, item, when, ip):
    usage = f.make_usage(account=account, user=user, item=item, when=when)
    ItemUsage.objects.filter(pk=usage.pk).update(client_ip=ip)


def _spread_rows(account, moment):
    evidence = Evidence(period=period_containing(moment), accounts=[account], now=moment + datetime.timedelta(days=1))
    return [row for row in evidence.anomalies if row[0] == SPREAD]


def _moment():
    # Mid-morning of the current period's first day: inside the period, outside the night window.
    return period_containing(timezone.now()).start + datetime.timedelta(hours=10, minutes=59, seconds=30)


def test_one_item_used_by_three_people_from_three_addresses_within_a_minute_is_an_anomaly(prod) -> None:
    account, vault = prod
    stripe = f.make_item(vault=vault, title="Stripe Production API Key")
    moment = _moment()
    # The window straddles an hour boundary (10:59:30 - 11:00:10): bucketing by hour would miss it.
    for seconds, ip in ((0, "198.51.100.1"), (25, "203.0.113.7"), (40, "192.0.2.44")):
        _use(account, f.make_op_user(account=account), stripe, moment + datetime.timedelta(seconds=seconds), ip)

    [row] = _spread_rows(account, moment)

    assert "Stripe Production API Key" in row[5] and "3 people from 3 addresses" in row[5]
    assert row[4] == 3


def test_one_person_from_one_address_many_times_is_not_an_anomaly(prod) -> None:
    account, vault = prod
    item = f.make_item(vault=vault)
    person = f.make_op_user(account=account)
    moment = _moment()
    for n in range(15):
        _use(account, person, item, moment + datetime.timedelta(seconds=2 * n), "198.51.100.1")

    assert _spread_rows(account, moment) == []


def test_three_addresses_spread_over_more_than_a_minute_are_not_an_anomaly(prod) -> None:
    account, vault = prod
    item = f.make_item(vault=vault)
    moment = _moment()
    for minutes, ip in ((0, "198.51.100.1"), (2, "203.0.113.7"), (4, "192.0.2.44")):
        _use(account, f.make_op_user(account=account), item, moment + datetime.timedelta(minutes=minutes), ip)

    assert _spread_rows(account, moment) == []
