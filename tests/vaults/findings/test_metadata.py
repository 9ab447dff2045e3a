from __future__ import annotations

from tests.vaults.factories import make_item
from tests.vaults.findings.helpers import open_findings
from vaults.findings.models import Finding


def test_a_complete_item_has_no_metadata_finding(account, prod_vault) -> None:
    make_item(vault=prod_vault, category="LOGIN")

    assert open_findings(account, Finding.Kind.MISSING_METADATA) == []


def test_one_finding_lists_everything_missing(account, prod_vault) -> None:
    make_item(vault=prod_vault, category="LOGIN", urls=[], tags=[], has_notes=False)

    [finding] = open_findings(account, Finding.Kind.MISSING_METADATA)

    assert finding.details["missing"] == ["URL", "tags", "description"]


def test_only_logins_need_a_url(account, prod_vault) -> None:
    make_item(vault=prod_vault, category="API_CREDENTIAL", urls=[])

    assert open_findings(account, Finding.Kind.MISSING_METADATA) == []


def test_no_notes_is_missing_description(account, prod_vault) -> None:
    make_item(vault=prod_vault, has_notes=False)

    [finding] = open_findings(account, Finding.Kind.MISSING_METADATA)

    assert finding.details["missing"] == ["description"]
