"""access_past_end_date: reported while a sync still shows access the end date covers; never for
a future date, access already gone, another vault than the one named, a service account or a
person removed from 1Password."""

from __future__ import annotations

from django.utils import timezone

from tests.vaults.access_expiry.conftest import end_date
from tests.vaults.factories import grant, make_op_group, make_op_user
from tests.vaults.findings.helpers import open_findings
from vaults.access_expiry.models import AccessEndDate
from vaults.findings.engine import compute_findings
from vaults.findings.models import Finding
from vaults.models import VaultGrant

KIND = Finding.Kind.ACCESS_PAST_END_DATE


def test_a_contractor_past_their_end_date_with_access_is_one_high_finding_naming_every_vault(
    account, prod_vault, dev_vault
) -> None:
    contractor = make_op_user(account=account, name="Casey Contractor")
    grant(vault=prod_vault, user=contractor)
    grant(vault=dev_vault, group=make_op_group(account=account, members=[contractor]))
    end_date(contractor, days=-3)

    [finding] = open_findings(account, KIND)

    assert finding.op_user == contractor and finding.severity == Finding.Severity.HIGH
    assert finding.key == f"user:{contractor.pk}" and finding.vault is None
    assert "Payments Production" in finding.explanation and "Payments Development" in finding.explanation
    assert "3 days ago" in finding.explanation
    assert sorted(finding.details["vault_ids"]) == sorted([prod_vault.pk, dev_vault.pk])


def test_decoys_are_not_reported(account, prod_vault, dev_vault) -> None:
    future = make_op_user(account=account, name="Future End")
    grant(vault=prod_vault, user=future)
    end_date(future, days=5)
    gone = make_op_user(account=account, name="Already Gone")
    end_date(gone, days=-10)  # no grant or membership left
    other_vault = make_op_user(account=account, name="Other Vault")
    grant(vault=dev_vault, user=other_vault)
    end_date(other_vault, days=-2, vaults=[prod_vault])  # ended on A, still holds only B
    robot = make_op_user(account=account, name="Deploy Robot", user_type="SERVICE_ACCOUNT")
    grant(vault=prod_vault, user=robot)
    end_date(robot, days=-2)
    deleted = make_op_user(account=account, name="Deleted Person", removed_at=timezone.now())
    grant(vault=prod_vault, user=deleted)
    end_date(deleted, days=-2)
    cleared = make_op_user(account=account, name="Cleared End")
    grant(vault=prod_vault, user=cleared)
    end_date(cleared, days=-2, status=AccessEndDate.Status.CLEARED)

    assert open_findings(account, KIND) == []


def test_a_vault_scoped_end_date_is_one_finding_per_vault_still_reachable(account, prod_vault, dev_vault) -> None:
    contractor = make_op_user(account=account)
    grant(vault=prod_vault, user=contractor)
    grant(vault=dev_vault, user=contractor)
    end_date(contractor, days=0, vaults=[prod_vault])

    [finding] = open_findings(account, KIND)

    assert finding.vault == prod_vault and finding.key == f"user:{contractor.pk}:vault:{prod_vault.pk}"
    assert "today" in finding.explanation and "Payments Development" not in finding.explanation


def test_the_finding_resolves_when_the_sync_shows_the_access_gone(account, prod_vault) -> None:
    contractor = make_op_user(account=account)
    grant(vault=prod_vault, user=contractor)
    end_date(contractor, days=-1)
    [finding] = open_findings(account, KIND)

    VaultGrant.objects.filter(user=contractor).delete()  # what the next sync stores
    compute_findings(account=account)

    finding.refresh_from_db()
    assert finding.status == Finding.Status.RESOLVED and finding.resolved_at is not None


def test_a_guest_default_is_said_to_be_the_default(account, prod_vault) -> None:
    guest = make_op_user(account=account, user_type="GUEST")
    grant(vault=prod_vault, user=guest)
    end_date(guest, days=-1, is_default=True)

    [finding] = open_findings(account, KIND)

    assert "default end date for guests" in finding.explanation and finding.details["default"] is True
