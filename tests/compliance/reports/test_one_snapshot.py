"""One generation reads one snapshot: rows another process commits while the workbook is being
written (after the PDF's totals) do not make the files of one generation disagree."""

from __future__ import annotations

import datetime

import psycopg
import pytest
from django.db import connection

from compliance.reports.generate import one_snapshot
from vaults.models import Account, ItemUsage


def _commit_usage_elsewhere(account: Account, uuid: str) -> None:
    """Another process (the events import) commits a usage event through its own connection."""
    settings = connection.settings_dict
    with psycopg.connect(host=settings["HOST"], port=settings["PORT"], user=settings["USER"], dbname=settings["NAME"],
                         password=settings["PASSWORD"] or None, autocommit=True) as other:
        other.execute("INSERT INTO vaults_itemusage (account_id, uuid, timestamp, user_op_id, user_email, user_name, "
                      "item_op_id, vault_op_id, action, client_ip, client_app, country) "
                      "VALUES (%s, %s, %s, 'U1', '', '', 'I1', 'V1', 'reveal', '', '', '')",
                      [account.pk, uuid, datetime.datetime(2026, 1, 5, tzinfo=datetime.UTC)])


@pytest.mark.django_db(transaction=True)
def test_rows_committed_during_a_generation_are_not_seen_by_it() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the snapshot isolation is PostgreSQL's; SQLite serialises writers instead")
    account = Account.objects.create(name="snapshot")
    with one_snapshot():
        before = ItemUsage.objects.filter(account=account).count()  # the PDF's total
        _commit_usage_elsewhere(account, "during")
        during = ItemUsage.objects.filter(account=account).count()  # the workbook's rows, later
    assert before == during == 0
    # Decoy: outside a generation the committed row is read at once.
    _commit_usage_elsewhere(account, "after")
    assert ItemUsage.objects.filter(account=account).count() == 2
