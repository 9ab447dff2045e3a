from __future__ import annotations

from django.utils import timezone

from tests.vaults.factories import days_ago, grant, make_item, make_op_group, make_op_user, make_usage, make_vault
from tests.vaults.findings.helpers import open_findings
from vaults.findings.models import Finding


def test_a_suspended_user_with_group_access_is_high(account, prod_vault) -> None:
    gone = make_op_user(account=account, name="Gone", state="SUSPENDED")
    grant(vault=prod_vault, group=make_op_group(account=account, members=[gone]))

    [finding] = open_findings(account, Finding.Kind.OVER_PERMISSIONED)

    assert finding.op_user == gone and finding.severity == Finding.Severity.HIGH
    assert "suspended" in finding.explanation and "Payments Production" in finding.explanation


def test_a_removed_user_still_holding_access_is_flagged(account, prod_vault) -> None:
    gone = make_op_user(account=account, removed_at=timezone.now())
    grant(vault=prod_vault, user=gone)

    assert [f.op_user for f in open_findings(account, Finding.Kind.OVER_PERMISSIONED)] == [gone]


def test_a_suspended_user_without_access_is_not_flagged(account, prod_vault) -> None:
    make_op_user(account=account, state="SUSPENDED")

    assert open_findings(account, Finding.Kind.OVER_PERMISSIONED) == []


def test_a_direct_manage_grant_is_flagged_in_either_naming_style(account, prod_vault, dev_vault) -> None:
    new_style, old_style = make_op_user(account=account), make_op_user(account=account)
    grant(vault=prod_vault, user=new_style, permissions=["view_items", "manage_vault"])
    grant(vault=dev_vault, user=old_style, permissions=["allow_viewing", "allow_managing"])

    findings = open_findings(account, Finding.Kind.OVER_PERMISSIONED)

    assert {f.op_user for f in findings} == {new_style, old_style}
    assert all(f.severity == Finding.Severity.MEDIUM for f in findings)
    assert all("manage_vault" in f.explanation for f in findings)


def test_a_direct_export_grant_is_flagged(account, prod_vault) -> None:
    dana = make_op_user(account=account)
    grant(vault=prod_vault, user=dana, permissions=["view_items", "export_items"])

    assert [f.op_user for f in open_findings(account, Finding.Kind.OVER_PERMISSIONED)] == [dana]


def test_manage_rights_through_a_group_alone_are_not_flagged(account, prod_vault) -> None:
    dana = make_op_user(account=account)
    grant(vault=prod_vault, group=make_op_group(account=account, members=[dana]), permissions=["manage_vault"])

    assert open_findings(account, Finding.Kind.OVER_PERMISSIONED) == []


def test_access_far_beyond_the_peer_median_is_flagged(account) -> None:
    vaults = [make_vault(account=account, name=f"Team Vault {n}") for n in range(12)]
    group = make_op_group(account=account, name="Platform")
    peers = [make_op_user(account=account, name=f"Peer {n}") for n in range(4)]
    outlier = make_op_user(account=account, name="Outlier")
    for user in [*peers, outlier]:
        group.memberships.create(user=user)
    grant(vault=vaults[0], group=group)  # everyone: 1 vault; median 1, threshold max(2, 6) = 6
    big_group = make_op_group(account=account, name="Everything", members=[outlier])
    for vault in vaults[1:7]:
        grant(vault=vault, group=big_group)  # the outlier: 7 vaults > 6

    [finding] = open_findings(account, Finding.Kind.OVER_PERMISSIONED)

    assert finding.op_user == outlier
    assert finding.details["breadth"]["threshold"] == 6


def test_access_at_the_threshold_is_not_flagged(account) -> None:
    vaults = [make_vault(account=account, name=f"Team Vault {n}") for n in range(6)]
    group = make_op_group(account=account, name="Platform")
    for n in range(4):
        group.memberships.create(user=make_op_user(account=account, name=f"Peer {n}"))
    grant(vault=vaults[0], group=group)
    edge = make_op_user(account=account, name="Edge")
    group.memberships.create(user=edge)
    extra = make_op_group(account=account, name="Extra", members=[edge])
    for vault in vaults[1:6]:
        grant(vault=vault, group=extra)  # 6 vaults == threshold 6

    assert open_findings(account, Finding.Kind.OVER_PERMISSIONED) == []


def test_service_accounts_are_exempt_from_breadth_and_unused_access(account) -> None:
    vaults = [make_vault(account=account, name=f"Vault {n}") for n in range(10)]
    bot = make_op_user(account=account, name="CI", user_type="SERVICE_ACCOUNT")
    for n in range(3):
        make_op_user(account=account, name=f"Person {n}")
    for vault in vaults:
        grant(vault=vault, user=bot)
    make_usage(account=account, user=bot, item=make_item(vault=vaults[0]), when=days_ago(500))

    assert open_findings(account, Finding.Kind.OVER_PERMISSIONED) == []


def test_unused_direct_access_is_flagged_only_when_usage_events_exist(account, prod_vault, dev_vault) -> None:
    dana = make_op_user(account=account, name="Dana")
    grant(vault=prod_vault, user=dana)
    assert open_findings(account, Finding.Kind.OVER_PERMISSIONED) == []  # no events at all: rule 4 is off

    other = make_op_user(account=account, name="Eve")
    grant(vault=dev_vault, user=other)
    make_usage(account=account, user=other, item=make_item(vault=dev_vault), when=days_ago(5))

    [finding] = open_findings(account, Finding.Kind.OVER_PERMISSIONED)
    assert finding.op_user == dana and "not used" in finding.explanation


def test_direct_access_used_recently_is_not_flagged(account, prod_vault) -> None:
    dana = make_op_user(account=account)
    grant(vault=prod_vault, user=dana)
    make_usage(account=account, user=dana, item=make_item(vault=prod_vault), when=days_ago(89))

    assert open_findings(account, Finding.Kind.OVER_PERMISSIONED) == []


def test_every_reason_is_listed_in_one_finding_per_user(account, prod_vault) -> None:
    gone = make_op_user(account=account, state="DELETED")
    grant(vault=prod_vault, user=gone, permissions=["allow_managing"])

    [finding] = open_findings(account, Finding.Kind.OVER_PERMISSIONED)

    assert "deleted" in finding.explanation and "manage_vault" in finding.explanation
