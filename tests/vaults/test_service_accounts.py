"""One test recognises a service account (vaults/models/access.is_service_account and its filter
twin): op has printed the user type in more than one case, and older rows keep what it printed."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.vaults.factories import make_account, make_op_user
from vaults.models import OpUser
from vaults.models.access import service_accounts
from vaults.offboarding import cases
from vaults.offboarding.models import OffboardingCase

pytestmark = pytest.mark.django_db

ROBOT_SPELLINGS = ["SERVICE_ACCOUNT", "service_account", "Service_Account"]
# Decoys: people, and types that only look like it.
PEOPLE_TYPES = ["MEMBER", "GUEST", "", "SERVICE", "SERVICE_ACCOUNTS", "USER"]


def test_the_property_and_the_filter_agree_on_every_spelling() -> None:
    account = make_account()
    users = {t: make_op_user(account=account, name=f"u {t}", user_type=t) for t in ROBOT_SPELLINGS + PEOPLE_TYPES}

    assert {t for t, u in users.items() if u.is_service_account} == set(ROBOT_SPELLINGS)
    assert set(OpUser.objects.filter(service_accounts()).values_list("user_type", flat=True)) == set(ROBOT_SPELLINGS)


@pytest.mark.parametrize("spelling", ROBOT_SPELLINGS)
def test_no_offboarding_case_opens_for_a_service_account_in_any_case(spelling: str) -> None:
    robot = make_op_user(account=make_account(), user_type=spelling)

    with pytest.raises(cases.CaseRefused, match="Service accounts"):
        cases.open_case(robot, leave_date=timezone.localdate(), reason=OffboardingCase.Reason.MARKED_LEAVING)
    assert not OffboardingCase.objects.exists()


def test_a_member_still_gets_a_case() -> None:
    person = make_op_user(account=make_account(), user_type="member")

    case = cases.open_case(person, leave_date=timezone.localdate(), reason=OffboardingCase.Reason.MARKED_LEAVING)

    assert case.pk is not None
