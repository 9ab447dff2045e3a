"""The sync's own reads in an emergency vault are not break-glass uses (issue #16, finding 6).

OpenClaw's service account runs `op item get` in every vault it reads, the emergency vault
included, and the Events API reports those reads like anyone's. Recording them would open an
emergency event (mail, reason request, rotation deadline) every sync."""

from __future__ import annotations

import datetime

import pytest

from tests.vaults import factories as f
from tests.vaults.breakglass.conftest import use
from vaults.breakglass import record
from vaults.breakglass.models import EmergencyUse

pytestmark = pytest.mark.django_db
H = datetime.timedelta(hours=1)


def test_the_sync_identitys_reads_are_left_out_and_a_persons_use_next_to_them_is_recorded(
    account, root_login, dana, now
):
    robot = f.make_op_user(account=account, name="OpenClaw Sync", email="openclaw-sync@example.com",
                           user_type="SERVICE_ACCOUNT")
    account.service_account_user_uuid = robot.op_id
    account.save(update_fields=["service_account_user_uuid"])
    use(root_login, robot, now - 5 * H, action="server-fetch")  # decoy: the sync's own read
    use(root_login, robot, now - 2 * H, action="server-fetch")
    use(root_login, dana, now - 3 * H)  # true case: a person opened the break-glass login

    created = record.record_uses(account=account)

    assert [(e.user_op_id, e.use_count) for e in created] == [(dana.op_id, 1)]
    assert not EmergencyUse.objects.filter(user_op_id=robot.op_id).exists()


def test_before_the_first_sync_names_its_identity_every_use_is_recorded(account, root_login, dana, now):
    """With no sync identity known yet ('' on the account) nothing is excluded: an empty id must
    not match a use whose user id is empty too."""
    other = f.make_op_user(account=account, name="Sam Service", user_type="SERVICE_ACCOUNT")
    use(root_login, other, now - 5 * H, action="server-fetch")
    use(root_login, dana, now - 3 * H)

    created = record.record_uses(account=account)

    assert sorted(e.user_op_id for e in created) == sorted([dana.op_id, other.op_id])
