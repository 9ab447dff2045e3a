"""A leaver's "could copy" lines come from the access they had before they left (issue #16,
finding 1): the sync that first sees a person deleted in 1Password already shows their grants
and memberships gone, so the case it opens has an empty snapshot; the history spans still know."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from tests.vaults import factories as f
from vaults import history
from vaults.models import GroupMembership, Vault, VaultGrant
from vaults.offboarding import cases, past_access
from vaults.offboarding.after_sync import open_cases_after_sync
from vaults.offboarding.completion import blockers, refresh_open_cases
from vaults.offboarding.models import OffboardingCase

pytestmark = pytest.mark.django_db
COPY = ["view_items", "view_and_copy_passwords"]


def test_the_case_the_sync_opens_for_a_deleted_member_plans_what_they_could_copy_until_then() -> None:
    account = f.make_account(name="acme")
    payments = f.make_vault(account=account, name="Payments Production", classification=Vault.Classification.PRODUCTION)
    ops = f.make_vault(account=account, name="Ops Shared")
    readonly = f.make_vault(account=account, name="Wiki Links")
    never = f.make_vault(account=account, name="HR Private")
    for vault, title in [(payments, "Stripe Live Secret Key"), (ops, "Grafana Admin"), (readonly, "Wiki Bot"),
                         (never, "Payroll Login")]:
        f.make_secret(item=f.make_item(vault=vault, title=title), field_id="password")
    person = f.make_op_user(account=account, name="Lee Leaver")
    group = f.make_op_group(account=account, name="Ops", members=[person])
    f.grant(vault=payments, user=person, permissions=COPY)  # true case: direct
    f.grant(vault=ops, group=group, permissions=COPY)  # true case: through a group
    f.grant(vault=readonly, user=person, permissions=["view_items"])  # decoy: could see, not copy
    stays = f.make_op_user(account=account, name="Sam Stays")
    f.grant(vault=never, user=stays, permissions=COPY)  # decoy: someone else's vault
    start = timezone.now() - datetime.timedelta(days=3)
    history.record_history(account, at=start)

    # The sync that sees the deletion: the person, their grants and memberships all gone at once.
    VaultGrant.objects.filter(user=person).delete()
    GroupMembership.objects.filter(user=person).delete()
    person.removed_at, person.state = timezone.now(), "DELETED"
    person.save(update_fields=["removed_at", "state"])
    history.record_history(account, at=start + datetime.timedelta(days=1))
    [case] = open_cases_after_sync(account)

    assert case.access_at_open == []  # the snapshot saw nothing: only history can answer
    lines = {line.title: line for line in cases.case_plan(case).lines}
    assert sorted(lines) == ["Grafana Admin", "Stripe Live Secret Key"]
    assert lines["Stripe Live Secret Key"].access == "direct grant, until they left"
    assert lines["Grafana Admin"].access == "group “Ops”, until they left"
    assert "could copy" in lines["Grafana Admin"].reason
    case.refresh_from_db()
    assert case.status == OffboardingCase.Status.OPEN
    assert blockers(case) == ["2 secrets to rotate: create the actions."]
    assert refresh_open_cases(account) == 0


def test_a_member_marked_as_leaving_keeps_their_snapshot_after_their_grants_go(make_user) -> None:
    """No history at all (history was never recorded for the account): the snapshot taken when
    the case opened still holds the vault after the grant is removed; a vault the person never
    reached stays out (decoy)."""
    account = f.make_account(name="acme2")
    vault = f.make_vault(account=account, name="Payments Production")
    other = f.make_vault(account=account, name="HR Private")
    f.make_secret(item=f.make_item(vault=vault, title="Stripe Live Secret Key"), field_id="password")
    f.make_secret(item=f.make_item(vault=other, title="Payroll Login"), field_id="password")
    person = f.make_op_user(account=account, name="Lee Leaver")
    f.grant(vault=vault, user=person, permissions=COPY)
    f.grant(vault=other, user=f.make_op_user(account=account, name="Sam Stays"), permissions=COPY)
    case = cases.mark_leaving(op_user=person, leave_date=timezone.localdate(), user=make_user("lead"))
    assert case.access_at_open == [{"vault": vault.op_id, "permissions": sorted(COPY), "direct": True, "groups": []}]
    assert past_access.last_active_moment(person) is None

    VaultGrant.objects.filter(user=person).delete()  # e.g. the revoke action ran

    [line] = cases.case_plan(case).lines
    assert (line.title, line.access) == ("Stripe Live Secret Key", "direct grant, until they left")
