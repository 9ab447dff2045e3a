"""User states as op reports them: stored verbatim, classified active / pending / inactive in one
place (`classify_user_state`), unknown ones treated as inactive with a warning, shown readably."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.vaults.factories import make_account, make_op_user
from vaults import snapshot
from vaults.access import user_is_inactive
from vaults.models import Account, OpUser
from vaults.models.access import classify_user_state, user_state_label
from vaults.op.records import UserRecord

STATE_CLASSES = [
    ("ACTIVE", "active"),
    ("RECOVERY_STARTED", "pending"),
    ("RECOVERY_ACCEPTED", "pending"),
    ("TRANSFER_STARTED", "pending"),
    ("SUSPENDED", "inactive"),
    ("TRANSFER_SUSPENDED", "inactive"),
    ("DELETED", "inactive"),
    ("LOCKED_BY_POLICY_2030", "inactive"),  # unknown to this code: not trusted as active
    ("", "active"),  # op printed no state: as before states were read
    ("active", "active"),
    (" transfer_suspended ", "inactive"),
]


@pytest.mark.parametrize(("state", "expected"), STATE_CLASSES)
def test_each_state_is_classified(state: str, expected: str) -> None:
    assert classify_user_state(state) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("state", "inactive"),
    [("TRANSFER_SUSPENDED", True), ("SUSPENDED", True), ("RECOVERY_STARTED", False), ("TRANSFER_STARTED", False),
     ("ACTIVE", False), ("SOMETHING_NEW", True)],
)
def test_user_is_inactive_follows_the_classification(state: str, inactive: bool) -> None:
    user = make_op_user(account=make_account(), state=state)

    assert user_is_inactive(user) is inactive
    assert (user.state_class == "inactive") is inactive


@pytest.mark.django_db
def test_a_removed_user_is_inactive_whatever_state_op_last_printed() -> None:
    user = make_op_user(account=make_account(), state="ACTIVE", removed_at=timezone.now())

    assert user.state_class == "inactive"


def test_labels_read_as_words_and_an_unknown_state_says_it_is_unknown() -> None:
    assert user_state_label("TRANSFER_SUSPENDED") == "Suspended during account transfer"
    assert user_state_label("RECOVERY_STARTED") == "Account recovery started"
    assert user_state_label("LOCKED_BY_POLICY_2030") == "Locked by policy 2030 (state unknown to OpenClaw)"
    assert user_state_label("") == ""


def people(*states: str) -> list[UserRecord]:
    return [UserRecord(id=f"USER{n:022d}", name=f"Person {n}", email=f"p{n}@example.com", user_type="MEMBER", state=s)
            for n, s in enumerate(states)]


def store(account: Account, records: list[UserRecord]) -> None:
    snapshot.apply_people(account=account, users=records, groups=[], members={}, user_grants={}, group_grants={},
                          now=timezone.now())


@pytest.mark.django_db
def test_every_state_is_stored_as_op_printed_it_and_an_unknown_one_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    account = make_account()
    states = ("ACTIVE", "RECOVERY_STARTED", "RECOVERY_ACCEPTED", "SUSPENDED", "TRANSFER_STARTED",
              "TRANSFER_SUSPENDED", "LOCKED_BY_POLICY_2030")

    with caplog.at_level(logging.WARNING, logger="vaults.snapshot"):
        store(account, people(*states))

    assert list(OpUser.objects.filter(account=account).order_by("op_id").values_list("state", flat=True)) == list(states)
    [warning] = [r for r in caplog.records if r.name == "vaults.snapshot"]
    assert "LOCKED_BY_POLICY_2030" in warning.getMessage() and "inactive" in warning.getMessage()
    assert "TRANSFER_SUSPENDED" not in warning.getMessage()


@pytest.mark.django_db
def test_known_states_log_no_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="vaults.snapshot"):
        store(make_account(), people("ACTIVE", "TRANSFER_SUSPENDED", "RECOVERY_ACCEPTED"))

    assert not [r for r in caplog.records if r.name == "vaults.snapshot"]


@pytest.mark.django_db
def test_the_person_page_shows_the_state_in_words_and_as_op_printed_it(client_for, admin_user) -> None:
    person = make_op_user(account=make_account(), name="Tess Transfer", state="TRANSFER_SUSPENDED")
    pending = make_op_user(account=person.account, name="Rae Recovery", state="RECOVERY_STARTED")

    page = client_for(admin_user).get(reverse("vaults:person", args=[person.pk])).content.decode()
    other = client_for(admin_user).get(reverse("vaults:person", args=[pending.pk])).content.decode()

    assert "Suspended during account transfer" in page and "TRANSFER_SUSPENDED" in page
    assert 'class="pill sev-high">Suspended during account transfer' in page
    assert 'class="pill sev-medium">Account recovery started' in other
    assert "Suspended" not in other


@pytest.mark.django_db
def test_the_people_list_filters_on_a_transfer_state(client_for, admin_user) -> None:
    account = make_account()
    make_op_user(account=account, name="Tess Transfer", state="TRANSFER_SUSPENDED")
    make_op_user(account=account, name="Sam Suspended", state="SUSPENDED")  # decoy: suspended, not in transfer

    page = client_for(admin_user).get(reverse("vaults:people"), {"state": "TRANSFER_SUSPENDED"}).content.decode()

    assert "Tess Transfer" in page and "Sam Suspended" not in page
