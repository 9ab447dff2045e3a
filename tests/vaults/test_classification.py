from __future__ import annotations

import pytest

from vaults.classification import classify_vault
from vaults.models import Vault

C = Vault.Classification


@pytest.mark.parametrize(
    ("name", "vault_type", "expected"),
    [
        ("Payments Production", "USER_CREATED", C.PRODUCTION),
        ("prod-db", "USER_CREATED", C.PRODUCTION),
        ("Staging", "USER_CREATED", C.NON_PRODUCTION),
        ("Stage secrets", "USER_CREATED", C.NON_PRODUCTION),
        ("Dev Team", "USER_CREATED", C.NON_PRODUCTION),
        ("QA", "USER_CREATED", C.NON_PRODUCTION),
        ("Test accounts", "USER_CREATED", C.NON_PRODUCTION),
        ("Sandbox", "USER_CREATED", C.NON_PRODUCTION),
        ("Private", "USER_CREATED", C.PERSONAL),
        ("Employee", "USER_CREATED", C.PERSONAL),
        ("Anything", "PERSONAL", C.PERSONAL),
        ("Shared", "USER_CREATED", C.SHARED),
        ("Corporate Accounts", "USER_CREATED", C.SHARED),
        ("Everyone", "EVERYONE", C.SHARED),
        ("Marketing", "USER_CREATED", C.UNCLASSIFIED),
    ],
)
def test_vault_names_are_classified_as_the_rules_say(name: str, vault_type: str, expected: str) -> None:
    assert classify_vault(name, vault_type) == expected


def test_production_wins_over_other_words_in_the_name() -> None:
    assert classify_vault("Shared Production", "USER_CREATED") == C.PRODUCTION


def test_op_personal_vault_type_wins_over_the_name() -> None:
    assert classify_vault("Prod notes", "PERSONAL") == C.PERSONAL


def test_matching_ignores_case() -> None:
    assert classify_vault("PAYMENTS PRODUCTION", "user_created") == C.PRODUCTION
