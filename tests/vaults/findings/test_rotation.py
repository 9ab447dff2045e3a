from __future__ import annotations

from tests.vaults.factories import days_ago, make_item, make_secret, make_vault
from tests.vaults.findings.helpers import open_findings
from vaults.findings.engine import compute_findings
from vaults.findings.models import Finding
from vaults.models import Vault


def _secret_aged(vault, days, *, category="API_CREDENTIAL", tags=None, now=None):
    item = make_item(vault=vault, category=category, tags=tags)
    make_secret(item=item, changed_at=days_ago(days, now=now))
    return item


def test_a_production_api_key_older_than_90_days_is_overdue_and_high(account, prod_vault, now) -> None:
    item = _secret_aged(prod_vault, 91, now=now)

    [finding] = open_findings(account, Finding.Kind.OVERDUE_ROTATION, now=now)

    assert finding.item == item and finding.severity == Finding.Severity.HIGH
    assert "every 90 days" in finding.explanation


def test_a_non_production_secret_is_overdue_after_365_days_and_medium(account, dev_vault, now) -> None:
    _secret_aged(dev_vault, 300, now=now)
    old = _secret_aged(dev_vault, 366, now=now)

    [finding] = open_findings(account, Finding.Kind.OVERDUE_ROTATION, now=now)

    assert finding.item == old and finding.severity == Finding.Severity.MEDIUM


def test_a_secret_overdue_within_30_days_is_due_soon_and_low(account, prod_vault, now) -> None:
    soon = _secret_aged(prod_vault, 70, now=now)
    _secret_aged(prod_vault, 50, now=now)

    compute_findings(account=account, now=now)
    [finding] = Finding.objects.filter(kind=Finding.Kind.ROTATION_DUE_SOON)

    assert finding.item == soon and finding.severity == Finding.Severity.LOW
    assert not Finding.objects.filter(kind=Finding.Kind.OVERDUE_ROTATION).exists()


def test_peoples_own_logins_in_personal_vaults_are_never_forced_into_rotation(account, now) -> None:
    private = make_vault(account=account, name="Private", vault_type="PERSONAL", classification=Vault.Classification.PERSONAL)
    personal = make_vault(account=account, name="Employee: Ann", classification=Vault.Classification.PERSONAL)
    _secret_aged(private, 1000, category="LOGIN", now=now)
    _secret_aged(personal, 1000, category="PASSWORD", now=now)

    assert open_findings(account, Finding.Kind.OVERDUE_ROTATION, now=now) == []


def test_a_shared_production_login_unchanged_for_200_days_is_overdue(account, prod_vault, now) -> None:
    # 'Redis Production Password': a LOGIN with username svc-user, known to several people/machines.
    item = _secret_aged(prod_vault, 200, category="LOGIN", now=now)

    [finding] = open_findings(account, Finding.Kind.OVERDUE_ROTATION, now=now)

    assert finding.item == item and finding.severity == Finding.Severity.HIGH
    assert "every 90 days" in finding.explanation


def test_a_login_in_a_shared_vault_rotates_on_the_non_production_period(account, now) -> None:
    shared = make_vault(account=account, name="Team Shared", classification=Vault.Classification.SHARED)
    fresh = _secret_aged(shared, 200, category="LOGIN", now=now)
    stale = _secret_aged(shared, 400, category="LOGIN", now=now)

    found = [f.item for f in open_findings(account, Finding.Kind.OVERDUE_ROTATION, now=now)]

    assert found == [stale] and fresh not in found


def test_a_card_or_note_in_a_production_vault_is_not_put_on_a_rotation_schedule(account, prod_vault, now) -> None:
    _secret_aged(prod_vault, 1000, category="CREDIT_CARD", now=now)
    _secret_aged(prod_vault, 1000, category="SECURE_NOTE", now=now)

    assert open_findings(account, Finding.Kind.OVERDUE_ROTATION, now=now) == []


def test_logins_tagged_service_account_rotate(account, prod_vault, now) -> None:
    item = _secret_aged(prod_vault, 100, category="LOGIN", tags=["Service-Account"], now=now)

    assert [f.item for f in open_findings(account, Finding.Kind.OVERDUE_ROTATION, now=now)] == [item]


def test_the_oldest_secret_of_an_item_decides(account, prod_vault, now) -> None:
    item = make_item(vault=prod_vault, category="SERVER")
    make_secret(item=item, changed_at=days_ago(1, now=now))
    make_secret(item=item, changed_at=days_ago(200, now=now))

    assert [f.item for f in open_findings(account, Finding.Kind.OVERDUE_ROTATION, now=now)] == [item]
