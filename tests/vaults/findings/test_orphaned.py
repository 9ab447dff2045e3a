from __future__ import annotations

from tests.vaults.factories import days_ago, make_item, make_op_user, make_usage
from tests.vaults.findings.helpers import open_findings
from vaults.findings.models import Finding


def test_an_old_unused_unedited_item_is_orphaned(account, prod_vault, now) -> None:
    item = make_item(vault=prod_vault, created=days_ago(400, now=now), updated=days_ago(200, now=now))

    [finding] = open_findings(account, Finding.Kind.ORPHANED, now=now)

    assert finding.item == item and finding.severity == Finding.Severity.LOW


def test_recent_use_keeps_an_item_from_being_orphaned(account, prod_vault, now) -> None:
    item = make_item(vault=prod_vault, created=days_ago(400, now=now), updated=days_ago(200, now=now))
    make_usage(account=account, user=make_op_user(account=account), item=item, when=days_ago(10, now=now))

    assert open_findings(account, Finding.Kind.ORPHANED, now=now) == []


def test_a_recent_edit_keeps_an_item_from_being_orphaned(account, prod_vault, now) -> None:
    make_item(vault=prod_vault, created=days_ago(400, now=now), updated=days_ago(179, now=now))

    assert open_findings(account, Finding.Kind.ORPHANED, now=now) == []


def test_items_created_recently_are_not_orphaned_by_age(account, prod_vault, now) -> None:
    make_item(vault=prod_vault, created=days_ago(100, now=now))

    assert open_findings(account, Finding.Kind.ORPHANED, now=now) == []


def test_deprecated_or_decommissioned_tags_orphan_an_item_whatever_its_age(account, prod_vault, now) -> None:
    a = make_item(vault=prod_vault, tags=["Deprecated"])
    b = make_item(vault=prod_vault, tags=["team", "decommissioned"])

    assert {f.item for f in open_findings(account, Finding.Kind.ORPHANED, now=now)} == {a, b}


def test_archived_items_are_ignored(account, prod_vault, now) -> None:
    make_item(vault=prod_vault, tags=["deprecated"], archived=True)

    assert open_findings(account, Finding.Kind.ORPHANED, now=now) == []
