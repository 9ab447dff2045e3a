"""Adversarial review of issue #16: precision of what the lifecycle features flag and plan.
True cases they must not miss, decoys they must not flag. Real PostgreSQL, no mocks.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from tests.vaults import factories as f
from vaults.access_expiry.models import AccessEndDate
from vaults.findings import access_end_date
from vaults.models import Vault, VaultGrant
from vaults.offboarding import cases
from vaults.offboarding.models import OffboardingCase

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def test_a_leaver_deleted_in_1password_keeps_the_secrets_they_could_copy_in_their_rotation_plan() -> None:
    """The commonest leaver: an admin deletes the person in 1Password (or SCIM does), the next
    sync shows them removed and their grants gone, and that is what opens the case. The plan is
    built from the access the person has NOW (effective_access), so every secret they could copy
    until yesterday drops out: the rotation plan of a deleted leaver lists only what the Events
    API saw them use. The decoy below shows the same secret is planned while they are active."""
    account = f.make_account(name="acme")
    vault = f.make_vault(account=account, name="Payments Production", classification=Vault.Classification.PRODUCTION)
    item = f.make_item(vault=vault, title="Stripe Live Secret Key")
    f.make_secret(item=item, field_id="password")
    person = f.make_op_user(account=account, name="Lee Leaver")
    f.grant(vault=vault, user=person, permissions=["view_items", "view_and_copy_passwords"])
    case = cases.open_case(person, leave_date=timezone.localdate(), reason=OffboardingCase.Reason.MARKED_LEAVING)

    assert [line.title for line in cases.case_plan(case).lines] == ["Stripe Live Secret Key"]  # decoy: active

    # What the next sync records for a person deleted in 1Password.
    VaultGrant.objects.filter(user=person).delete()
    person.removed_at, person.state = timezone.now(), "DELETED"
    person.save(update_fields=["removed_at", "state"])
    case.refresh_from_db()

    titles = [line.title for line in cases.case_plan(case).lines]
    assert titles == ["Stripe Live Secret Key"], f"the deleted leaver's copyable secret left the plan: {titles}"


def test_access_past_end_date_flags_group_access_and_not_a_removed_vault() -> None:
    """Property that holds: access through a group still counts (true case), a grant on a vault
    deleted in 1Password does not (decoy), a future end date is not flagged (decoy)."""
    account = f.make_account(name="acme2")
    live = f.make_vault(account=account, name="Live")
    gone = f.make_vault(account=account, name="Gone", removed_at=timezone.now() - DAY)
    contractor = f.make_op_user(account=account, name="Casey")
    later = f.make_op_user(account=account, name="Later")
    group = f.make_op_group(account=account, name="Contractors", members=[contractor, later])
    f.grant(vault=live, group=group)
    f.grant(vault=gone, user=contractor)
    today = timezone.localdate()
    AccessEndDate.objects.create(account=account, op_user=contractor, covers_all=True, ends_on=today - DAY)
    AccessEndDate.objects.create(account=account, op_user=later, covers_all=True, ends_on=today + DAY)

    found = access_end_date.find(account=account, now=timezone.now())

    assert [(c.op_user_id, c.details["vault_ids"]) for c in found] == [(contractor.pk, [live.pk])]


def test_the_case_of_a_leaver_deleted_in_1password_does_not_complete_without_any_rotation() -> None:
    """Consequence of the previous test, as an auditor sees it: the sync that shows the deletion
    also runs `refresh_open_cases`; with the copyable secret gone from the plan nothing blocks,
    and the case closes "Completed in time" — the report then reads "completed (secrets rotated,
    access removed)" though no secret was rotated. Decoy: while the person is active the same
    case stays open (the secret blocks it)."""
    from vaults.offboarding.completion import refresh_open_cases

    account = f.make_account(name="acme4")
    vault = f.make_vault(account=account, name="Payments Production", classification=Vault.Classification.PRODUCTION)
    f.make_secret(item=f.make_item(vault=vault, title="Stripe Live Secret Key"), field_id="password")
    person = f.make_op_user(account=account, name="Lee Leaver")
    f.grant(vault=vault, user=person, permissions=["view_items", "view_and_copy_passwords"])
    case = cases.open_case(person, leave_date=timezone.localdate(), reason=OffboardingCase.Reason.BECAME_INACTIVE)
    assert refresh_open_cases(account) == 0  # decoy: blocked while the person still reaches the secret

    VaultGrant.objects.filter(user=person).delete()
    person.removed_at, person.state = timezone.now(), "DELETED"
    person.save(update_fields=["removed_at", "state"])
    refresh_open_cases(account)

    case.refresh_from_db()
    assert case.status == OffboardingCase.Status.OPEN, "the case completed with the leaver's secret never rotated"
