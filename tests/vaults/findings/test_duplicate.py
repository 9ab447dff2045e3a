from __future__ import annotations

from tests.vaults.factories import make_item, make_secret
from tests.vaults.findings.helpers import open_findings
from vaults.findings.engine import compute_findings
from vaults.findings.models import Finding

FP = "ab" * 32


def test_one_secret_in_three_items_is_one_duplicate_listing_all_three(account, prod_vault, dev_vault) -> None:
    items = [make_item(vault=prod_vault, title=f"Stripe Production Key {n}") for n in range(2)]
    items.append(make_item(vault=dev_vault, title="Stripe Development Key"))
    for item in items:
        make_secret(item=item, fingerprint=FP)

    [finding] = open_findings(account, Finding.Kind.DUPLICATE)

    assert finding.severity == Finding.Severity.HIGH
    assert set(finding.related_items.all()) == set(items)
    assert finding.details["item_count"] == 3
    assert "Payments Production" in finding.explanation and "Payments Development" in finding.explanation
    assert FP not in finding.explanation and FP not in finding.search_text


def test_two_fields_of_one_item_sharing_a_value_are_not_a_duplicate(account, prod_vault) -> None:
    item = make_item(vault=prod_vault)
    make_secret(item=item, fingerprint=FP, label="password")
    make_secret(item=item, fingerprint=FP, label="confirm password")

    assert open_findings(account, Finding.Kind.DUPLICATE) == []


def test_archived_and_removed_items_do_not_count(account, prod_vault, now) -> None:
    make_secret(item=make_item(vault=prod_vault), fingerprint=FP)
    make_secret(item=make_item(vault=prod_vault, archived=True), fingerprint=FP)
    make_secret(item=make_item(vault=prod_vault, removed_at=now), fingerprint=FP)

    assert open_findings(account, Finding.Kind.DUPLICATE) == []


def test_a_fixed_duplicate_is_resolved_on_the_next_computation(account, prod_vault) -> None:
    first = make_item(vault=prod_vault)
    make_secret(item=first, fingerprint=FP)
    copy = make_item(vault=prod_vault)
    make_secret(item=copy, fingerprint=FP)
    [finding] = open_findings(account, Finding.Kind.DUPLICATE)

    copy.archived = True
    copy.save()
    compute_findings(account=account)

    finding.refresh_from_db()
    assert finding.status == Finding.Status.RESOLVED
    assert finding.resolved_at is not None


def test_a_group_that_grows_lists_the_new_item(account, prod_vault) -> None:
    items = [make_item(vault=prod_vault) for _ in range(2)]
    for item in items:
        make_secret(item=item, fingerprint=FP)
    [finding] = open_findings(account, Finding.Kind.DUPLICATE)

    third = make_item(vault=prod_vault)
    make_secret(item=third, fingerprint=FP)
    compute_findings(account=account)

    finding.refresh_from_db()
    assert finding.details["item_count"] == 3
    assert third in finding.related_items.all()
