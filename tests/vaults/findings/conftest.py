from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from tests.vaults.factories import make_account, make_vault
from vaults.models import Account, Vault


@pytest.fixture
def now() -> datetime.datetime:
    return timezone.now()


@pytest.fixture
def account(db: None) -> Account:
    return make_account(name="acme")


@pytest.fixture
def prod_vault(account: Account) -> Vault:
    return make_vault(account=account, name="Payments Production", classification=Vault.Classification.PRODUCTION)


@pytest.fixture
def dev_vault(account: Account) -> Vault:
    return make_vault(account=account, name="Payments Development", classification=Vault.Classification.NON_PRODUCTION)
