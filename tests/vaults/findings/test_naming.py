from __future__ import annotations

import pytest

from tests.vaults.factories import make_item, make_vault
from tests.vaults.findings.helpers import open_findings
from vaults.cleanup.naming import suggested_title
from vaults.findings.models import Finding
from vaults.models import Item, Vault


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


# --- suggested renames follow the convention (docs/findings-rules.md, "Naming convention") ------

P, D, S = Vault.Classification.PRODUCTION, Vault.Classification.NON_PRODUCTION, Vault.Classification.SHARED
STRIPE_URL = [{"label": "website", "href": "https://dashboard.stripe.com/login", "primary": True}]


@pytest.mark.parametrize(
    ("title", "category", "classification", "urls", "expected"),
    [
        ("aws root acct", "SSH_KEY", P, [], "AWS Production Root Account"),
        ("Password", "LOGIN", P, STRIPE_URL, "Stripe Production Password"),
        ("stripe key prod", "API_CREDENTIAL", D, [], "Stripe Production Key"),
        ("github_deploy_token", "API_CREDENTIAL", S, [], "GitHub Shared Deploy Token"),
        ("postgres db pw", "DATABASE", P, [], "Postgres Production Database Password"),
        ("new relic license", "API_CREDENTIAL", P, [], "New Relic Production License"),
        ("Datadog", "API_CREDENTIAL", P, [], "Datadog Production API Key"),
        ("API Key", "API_CREDENTIAL", D, [], "Payments Development API Key"),
        ("sendgrid staging", "API_CREDENTIAL", P, [], "SendGrid Staging API Key"),
    ],
)
def test_suggested_titles_read_as_names_a_person_would_choose(title, category, classification, urls, expected) -> None:
    vault = Vault(name="Payments Production", classification=classification)

    assert suggested_title(Item(title=title, category=category, vault=vault, urls=urls)) == expected


@pytest.mark.parametrize("title", ["aws root acct", "Password", "stripe key prod", "Datadog", "API Key"])
def test_every_suggestion_passes_the_default_naming_pattern(title) -> None:
    import re

    from vaults.findings.models import DEFAULT_NAMING_PATTERN

    vault = Vault(name="Payments Production", classification=P)
    suggestion = suggested_title(Item(title=title, category="API_CREDENTIAL", vault=vault, urls=[]))

    assert re.match(DEFAULT_NAMING_PATTERN, suggestion, re.IGNORECASE), suggestion
