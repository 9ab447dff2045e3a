from __future__ import annotations

import datetime

from django.utils import timezone

from tests.vaults.factories import make_item
from tests.vaults.findings.helpers import open_findings
from vaults.findings.models import Finding


def _in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


def test_an_item_expiring_within_30_days_is_medium(account, prod_vault) -> None:
    item = make_item(vault=prod_vault, expires_at=_in_days(30))
    make_item(vault=prod_vault, expires_at=_in_days(31))

    [finding] = open_findings(account, Finding.Kind.EXPIRING)

    assert finding.item == item and finding.severity == Finding.Severity.MEDIUM


def test_an_already_expired_item_is_high(account, prod_vault) -> None:
    make_item(vault=prod_vault, expires_at=_in_days(-1))

    [finding] = open_findings(account, Finding.Kind.EXPIRING)

    assert finding.severity == Finding.Severity.HIGH and "expired on" in finding.explanation


def test_an_item_expiring_today_is_not_yet_expired(account, prod_vault) -> None:
    make_item(vault=prod_vault, expires_at=_in_days(0))

    [finding] = open_findings(account, Finding.Kind.EXPIRING)

    assert finding.severity == Finding.Severity.MEDIUM
