from __future__ import annotations

from tests.vaults.factories import make_item, make_secret, make_vault
from tests.vaults.findings.helpers import open_findings
from vaults.findings.models import Finding
from vaults.models import Vault

FP = "cd" * 32


def test_a_secret_in_production_and_development_is_shared_across_environments(account, prod_vault, dev_vault) -> None:
    a, b = make_item(vault=prod_vault), make_item(vault=dev_vault)
    make_secret(item=a, fingerprint=FP)
    make_secret(item=b, fingerprint=FP)

    [finding] = open_findings(account, Finding.Kind.SHARED_ACROSS_ENVIRONMENTS)

    assert finding.severity == Finding.Severity.HIGH
    assert set(finding.related_items.all()) == {a, b}
    assert len(open_findings(account, Finding.Kind.DUPLICATE)) == 1  # such a group is also a duplicate


def test_a_secret_shared_between_two_production_vaults_is_only_a_duplicate(account, prod_vault) -> None:
    other = make_vault(account=account, name="Billing Production", classification=Vault.Classification.PRODUCTION)
    make_secret(item=make_item(vault=prod_vault), fingerprint=FP)
    make_secret(item=make_item(vault=other), fingerprint=FP)

    assert open_findings(account, Finding.Kind.SHARED_ACROSS_ENVIRONMENTS) == []


def test_an_unclassified_vault_counts_as_not_production(account, prod_vault) -> None:
    elsewhere = make_vault(account=account, name="Misc")
    make_secret(item=make_item(vault=prod_vault), fingerprint=FP)
    make_secret(item=make_item(vault=elsewhere), fingerprint=FP)

    assert len(open_findings(account, Finding.Kind.SHARED_ACROSS_ENVIRONMENTS)) == 1
