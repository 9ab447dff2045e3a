"""Break-glass uses as alert conditions: one per event, metadata only."""

from __future__ import annotations

import datetime

import pytest

from compliance.alerts.conditions import BREAK_GLASS_USE, KINDS
from tests.vaults import factories as f
from tests.vaults.breakglass.conftest import use
from vaults.breakglass import record
from vaults.breakglass.alerts import alert_conditions

pytestmark = pytest.mark.django_db
H = datetime.timedelta(hours=1)


def test_each_emergency_use_is_one_condition_and_other_vaults_and_accounts_give_none(
        account, root_login, prod_vault, dana, now):
    use(root_login, dana, now - 30 * H)
    use(root_login, dana, now - 29 * H)  # the same emergency
    use(root_login, dana, now - 2 * H)  # a second one
    use(f.make_item(vault=prod_vault, title="Payments Production Login"), dana, now - 2 * H)
    other = f.make_account(name="other")
    record.record_uses(account=account)

    conditions = alert_conditions(account)

    assert BREAK_GLASS_USE in KINDS
    assert [c.kind for c in conditions] == [BREAK_GLASS_USE, BREAK_GLASS_USE]
    newest, oldest = conditions
    assert oldest.details["uses"] == 2 and oldest.details["reason"] == "missing" and oldest.details["rotation"] == "late"
    assert newest.details["reason"] == "waiting" and newest.url.startswith("/break-glass/")
    assert len({c.key for c in conditions}) == 2 and all(c.account_id == account.pk for c in conditions)
    fingerprint = root_login.secret_fields.get().fingerprint
    assert all(fingerprint not in str(c) for c in conditions)
    assert alert_conditions(other) == []
