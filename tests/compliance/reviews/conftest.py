"""A small organisation built with the factories: two vaults (one owned by the team lead), people
with direct and group access, usage inside and outside the review period."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from django.utils import timezone

from compliance.reviews import review as flow
from compliance.reviews.models import AccessReview
from compliance.reviews.periods import Period, period_containing
from tests.vaults import factories as f
from vaults.findings.models import Finding
from vaults.models import Account, OpUser, Vault


@dataclass
class Org:
    account: Account
    payments: Vault  # production, owned by the team lead
    shared: Vault  # no owner: routed to compliance officers
    alice: OpUser  # direct view+edit on payments, used it this quarter
    bob: OpUser  # direct manage_vault on payments, never used it; open over-permissioned finding
    carol: OpUser  # payments via group "Engineering" only
    period: Period


@pytest.fixture
def org(db, team_lead) -> Org:
    now = timezone.now()
    period = period_containing(now)
    account = f.make_account(name="Acme")
    payments = f.make_vault(account=account, name="Payments Production", classification=Vault.Classification.PRODUCTION,
                            owner=team_lead)
    shared = f.make_vault(account=account, name="Shared Corporate", classification=Vault.Classification.SHARED)
    alice = f.make_op_user(account=account, name="Alice Able")
    bob = f.make_op_user(account=account, name="Bob Broad")
    carol = f.make_op_user(account=account, name="Carol Crew")
    f.grant(vault=payments, user=alice, permissions=["view_items", "edit_items"])
    f.grant(vault=payments, user=bob, permissions=["view_items", "manage_vault"])
    f.grant(vault=shared, user=alice, permissions=["view_items"])
    engineering = f.make_op_group(account=account, name="Engineering", members=[carol])
    f.grant(vault=payments, group=engineering, permissions=["view_items"])
    item = f.make_item(vault=payments, title="Stripe Production API Key")
    f.make_usage(account=account, user=alice, item=item, when=period.start + datetime.timedelta(hours=10))
    f.make_usage(account=account, user=alice, item=item, when=period.start + datetime.timedelta(hours=11))
    f.make_usage(account=account, user=carol, item=item, when=period.start - datetime.timedelta(days=3))  # before
    Finding.objects.create(
        account=account, kind=Finding.Kind.OVER_PERMISSIONED, severity="medium", severity_rank=2, op_user=bob,
        key=f"user:{bob.pk}", title="Over-permissioned: Bob Broad", explanation="manage_vault on Payments Production",
        details={"vault_ids": [payments.pk], "elevated": {"Payments Production": ["manage_vault"]}},
        first_seen=now, last_seen=now,
    )
    return Org(account, payments, shared, alice, bob, carol, period)


@pytest.fixture
def opened(org, compliance_officer) -> AccessReview:
    return flow.open_review(account=org.account, period=org.period, opened_by=compliance_officer)


def entry_for(review: AccessReview, user: OpUser, vault: Vault):
    return review.entries.get(op_user=user, vault=vault)


from tests.compliance.reviews.signed_off_review import people, signed_off  # noqa: E402, F401 — fixtures shared
