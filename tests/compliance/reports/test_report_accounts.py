"""A report over all accounts covers the accounts that existed by the period's end: one added later
has no evidence for the period and must not turn a closed period's verdicts into "No evidence"."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from compliance.reports.builders import build_report
from compliance.reviews.periods import period_containing
from vaults.models import Account, ItemUsage

pytestmark = pytest.mark.django_db


def test_an_account_added_after_a_closed_period_is_not_in_its_report():
    last_quarter = period_containing(timezone.now()).previous()
    old = Account.objects.create(name="Acme")
    Account.objects.filter(pk=old.pk).update(created_at=last_quarter.start + datetime.timedelta(days=2))
    Account.objects.create(name="Acquired later")
    # Added today too, but its Events API history reaches into the quarter: its evidence counts.
    backfilled = Account.objects.create(name="Backfilled")
    ItemUsage.objects.create(account=backfilled, uuid="u1", timestamp=last_quarter.start + datetime.timedelta(days=9),
                             user_op_id="U1", item_op_id="I1", vault_op_id="V1", action="reveal")

    closed = build_report(kind="hygiene", period=last_quarter, generator="tester", now=timezone.now())
    current = build_report(kind="hygiene", period=period_containing(timezone.now()), generator="tester", now=timezone.now())

    assert closed.accounts == ["Acme", "Backfilled"]
    assert current.accounts == ["Acme", "Acquired later", "Backfilled"]  # decoy: all exist now
