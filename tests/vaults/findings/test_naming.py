from __future__ import annotations

import pytest

from tests.vaults.factories import make_item, make_vault
from tests.vaults.findings.helpers import open_findings
from vaults.findings.models import Finding
from vaults.models import Vault


@pytest.mark.parametrize("title", ["Password", "  api key ", "NEW ITEM", "Untitled", "Server"])
def test_generic_titles_are_unclear(account, prod_vault, title) -> None:
    make_item(vault=prod_vault, title=title)

    [finding] = open_findings(account, Finding.Kind.UNCLEAR_NAME)

    assert "generic" in finding.explanation


@pytest.mark.parametrize("title", ["Stripe Production API Key", "aws staging root", "GitHub Shared Deploy Token"])
def test_titles_following_the_convention_are_clear(account, prod_vault, title) -> None:
    make_item(vault=prod_vault, title=title)

    assert open_findings(account, Finding.Kind.UNCLEAR_NAME) == []


@pytest.mark.parametrize("title", ["stripe key", "Production API Key", "Stripe Production"])
def test_titles_without_service_environment_and_type_are_unclear(account, prod_vault, title) -> None:
    make_item(vault=prod_vault, title=title)

    [finding] = open_findings(account, Finding.Kind.UNCLEAR_NAME)

    assert "naming convention" in finding.explanation


def test_personal_vaults_are_exempt_from_naming(account) -> None:
    personal = make_vault(account=account, name="Private", classification=Vault.Classification.PERSONAL)
    make_item(vault=personal, title="Password")

    assert open_findings(account, Finding.Kind.UNCLEAR_NAME) == []
