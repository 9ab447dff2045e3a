from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from tests.vaults.factories import make_account, make_vault
from vaults.access_expiry.models import AccessEndDate
from vaults.models import Account, OpUser, Vault


@pytest.fixture
def account(db: None) -> Account:
    return make_account(name="acme")


@pytest.fixture
def prod_vault(account: Account) -> Vault:
    return make_vault(account=account, name="Payments Production", classification=Vault.Classification.PRODUCTION)


@pytest.fixture
def dev_vault(account: Account) -> Vault:
    return make_vault(account=account, name="Payments Development", classification=Vault.Classification.NON_PRODUCTION)


def end_date(person: OpUser, *, days: int, vaults: list[Vault] | None = None, **fields: object) -> AccessEndDate:
    """An end date `days` from today (negative: in the past), straight in the table."""
    row = AccessEndDate.objects.create(
        account_id=person.account_id, op_user=person, covers_all=vaults is None,
        ends_on=timezone.localdate() + datetime.timedelta(days=days), **fields,
    )  # fmt: skip
    if vaults:
        row.vaults.set(vaults)
    return row
