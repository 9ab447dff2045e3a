from __future__ import annotations

from tests.vaults.factories import make_item, make_secret
from tests.vaults.findings.helpers import open_findings
from vaults.findings.models import Finding, Policy


def test_a_low_zxcvbn_score_is_weak(account, prod_vault) -> None:
    item = make_item(vault=prod_vault, category="LOGIN")
    make_secret(item=item, purpose="PASSWORD", label="password", zxcvbn_score=2)

    [finding] = open_findings(account, Finding.Kind.WEAK)

    assert finding.item == item and finding.severity == Finding.Severity.HIGH
    assert "zxcvbn score 2" in finding.explanation


def test_ops_weak_label_is_weak_even_without_the_value(account, prod_vault) -> None:
    item = make_item(vault=prod_vault, category="LOGIN")
    make_secret(item=item, purpose="PASSWORD", strength="TERRIBLE", value_available=False, zxcvbn_score=None, length=None)

    assert [f.item for f in open_findings(account, Finding.Kind.WEAK)] == [item]


def test_without_the_value_only_ops_label_counts(account, prod_vault) -> None:
    item = make_item(vault=prod_vault, category="LOGIN")
    make_secret(item=item, purpose="PASSWORD", strength="GOOD", value_available=False, zxcvbn_score=0, length=3)

    assert open_findings(account, Finding.Kind.WEAK) == []


def test_shorter_than_the_policy_minimum_is_weak(account, prod_vault) -> None:
    item = make_item(vault=prod_vault, category="DATABASE")
    make_secret(item=item, length=11, zxcvbn_score=4)
    make_secret(item=make_item(vault=prod_vault, category="DATABASE"), length=12, zxcvbn_score=4)

    assert [f.item for f in open_findings(account, Finding.Kind.WEAK)] == [item]


def test_a_vault_override_of_min_length_applies_to_that_vault_only(account, prod_vault, dev_vault) -> None:
    Policy.objects.create(vault=prod_vault, min_length=30)
    strict = make_item(vault=prod_vault, category="DATABASE")
    make_secret(item=strict, length=20)
    make_secret(item=make_item(vault=dev_vault, category="DATABASE"), length=20)

    assert [f.item for f in open_findings(account, Finding.Kind.WEAK)] == [strict]


def test_non_password_concealed_fields_of_logins_are_not_judged(account, prod_vault) -> None:
    make_secret(item=make_item(vault=prod_vault, category="LOGIN"), purpose="", label="pin", length=4, zxcvbn_score=0)

    assert open_findings(account, Finding.Kind.WEAK) == []


def test_ssh_keys_are_not_judged_by_length(account, prod_vault) -> None:
    item = make_item(vault=prod_vault, category="SSH_KEY")
    make_secret(item=item, field_type="SSHKEY", label="private key", zxcvbn_score=None, length=5, strength="")

    assert open_findings(account, Finding.Kind.WEAK) == []


def test_one_finding_per_item_lists_every_weak_field(account, prod_vault) -> None:
    item = make_item(vault=prod_vault, category="SERVER")
    make_secret(item=item, label="root password", zxcvbn_score=1)
    make_secret(item=item, label="admin password", strength="WEAK")

    [finding] = open_findings(account, Finding.Kind.WEAK)

    assert "root password" in finding.explanation and "admin password" in finding.explanation


# --- only passwords and API secrets are judged, by field purpose and type ----------------------


def test_a_payment_cards_verification_number_and_pin_are_not_weak_secrets(account, prod_vault) -> None:
    card = make_item(vault=prod_vault, title="Amex Corporate Card", category="CREDIT_CARD")
    make_secret(item=card, field_id="cvv", label="verification number", zxcvbn_score=0, length=4, strength="TERRIBLE")
    make_secret(item=card, field_id="pin", label="PIN", zxcvbn_score=0, length=4, strength="TERRIBLE")

    assert open_findings(account, Finding.Kind.WEAK) == []


def test_a_one_time_code_or_pin_field_on_a_password_item_is_not_judged(account, prod_vault) -> None:
    item = make_item(vault=prod_vault, title="Router Production Password", category="PASSWORD")
    make_secret(item=item, field_id="otp_seed", label="one-time password", zxcvbn_score=0, length=6)
    make_secret(item=item, field_id="f-pin", label="door pin", zxcvbn_score=0, length=4)

    assert open_findings(account, Finding.Kind.WEAK) == []


def test_a_weak_login_password_next_to_a_card_is_still_found(account, prod_vault) -> None:
    login = make_item(vault=prod_vault, title="Redis Production Password", category="LOGIN")
    make_secret(item=login, field_id="password", purpose="PASSWORD", label="password", zxcvbn_score=1, length=8)
    card = make_item(vault=prod_vault, title="Visa Corporate Card", category="CREDIT_CARD")
    make_secret(item=card, field_id="cvv", label="verification number", zxcvbn_score=0, length=3)

    [finding] = open_findings(account, Finding.Kind.WEAK)

    assert finding.item == login
    assert "20 random characters" in finding.recommended_action


def test_a_weak_api_secret_in_a_concealed_field_is_found(account, prod_vault) -> None:
    item = make_item(vault=prod_vault, title="Spinnaker Production API Key", category="API_CREDENTIAL")
    make_secret(item=item, field_id="credential", label="credential", zxcvbn_score=1, length=9)

    assert [f.item for f in open_findings(account, Finding.Kind.WEAK)] == [item]
