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


# --- OpenClaw's own service account, and every op user state -----------------------------------


def _sync_identity(account, vaults):
    """The service account the sync runs as, holding manage rights everywhere and using nothing."""
    own = make_op_user(account=account, name="OpenClaw sync", user_type="SERVICE_ACCOUNT")
    account.service_account_user_uuid = own.op_id
    account.save()
    for vault in vaults:
        grant(vault=vault, user=own, permissions=["view_items", "manage_vault", "export_items"])
    return own


def test_the_syncs_own_service_account_is_never_flagged(account, prod_vault, dev_vault, now) -> None:
    own = _sync_identity(account, [prod_vault, dev_vault])
    person = make_op_user(account=account, name="Pat Person")
    grant(vault=prod_vault, user=person, permissions=["view_items", "manage_vault"])
    # Usage exists, so the unused-grant test runs: the service account used nothing.
    make_usage(account=account, user=person, item=make_item(vault=prod_vault), when=days_ago(1, now=now))

    findings = open_findings(account, Finding.Kind.OVER_PERMISSIONED, now=now)

    assert [f.op_user for f in findings] == [person]  # the decoy with the same rights is flagged
    assert own not in {f.op_user for f in findings}


def test_a_service_account_that_is_not_the_syncs_own_is_still_judged(account, prod_vault) -> None:
    _sync_identity(account, [prod_vault])
    other = make_op_user(account=account, name="CI deploy bot", user_type="SERVICE_ACCOUNT")
    grant(vault=prod_vault, user=other, permissions=["view_items", "manage_vault"])

    assert [f.op_user for f in open_findings(account, Finding.Kind.OVER_PERMISSIONED)] == [other]


def test_the_older_service_account_id_field_also_identifies_the_sync(account, prod_vault) -> None:
    own = make_op_user(account=account, name="OpenClaw sync", user_type="SERVICE_ACCOUNT")
    account.service_account_id = own.op_id
    account.save()
    grant(vault=prod_vault, user=own, permissions=["manage_vault"])

    assert open_findings(account, Finding.Kind.OVER_PERMISSIONED) == []


def test_a_transfer_suspended_member_with_access_is_flagged_like_suspended(account, prod_vault) -> None:
    member = make_op_user(account=account, name="Tara Transfer", state="TRANSFER_SUSPENDED")
    grant(vault=prod_vault, user=member)

    [finding] = open_findings(account, Finding.Kind.OVER_PERMISSIONED)

    assert finding.op_user == member and finding.severity == Finding.Severity.HIGH
    assert "suspended during account transfer" in finding.explanation
    assert "Revoke" in finding.recommended_action


def test_pending_states_get_their_own_milder_explanation(account, prod_vault) -> None:
    users = {
        state: make_op_user(account=account, name=state.title(), state=state)
        for state in ("RECOVERY_STARTED", "RECOVERY_ACCEPTED", "TRANSFER_STARTED")
    }
    for user in users.values():
        grant(vault=prod_vault, user=user)

    findings = {f.op_user.state: f for f in open_findings(account, Finding.Kind.OVER_PERMISSIONED)}

    assert set(findings) == set(users)
    for finding in findings.values():
        assert finding.severity == Finding.Severity.LOW and finding.title.startswith("Access while")
        assert "no revocation is proposed" in finding.explanation
        assert "Confirm" in finding.recommended_action
    assert "recovery was started" in findings["RECOVERY_STARTED"].explanation
    assert "accepted" in findings["RECOVERY_ACCEPTED"].explanation
    assert "transferred" in findings["TRANSFER_STARTED"].explanation


def test_an_active_member_with_normal_access_is_not_flagged(account, prod_vault) -> None:
    grant(vault=prod_vault, user=make_op_user(account=account, state="ACTIVE"))

    assert open_findings(account, Finding.Kind.OVER_PERMISSIONED) == []


def test_no_revocation_is_proposed_for_the_sync_identity_or_a_pending_user(account, prod_vault) -> None:
    from vaults.cleanup import plans

    own = _sync_identity(account, [prod_vault])
    pending = make_op_user(account=account, name="Rita Recovery", state="RECOVERY_STARTED")
    grant(vault=prod_vault, user=pending)
    gone = make_op_user(account=account, name="Sam Suspended", state="TRANSFER_SUSPENDED")
    grant(vault=prod_vault, user=gone, permissions=["view_items", "edit_items"])
    findings = open_findings(account, Finding.Kind.OVER_PERMISSIONED)
    # Even a finding forged for the sync identity yields no revocation.
    forged = Finding.objects.create(
        account=account, kind=Finding.Kind.OVER_PERMISSIONED, severity="high", severity_rank=3, op_user=own,
        key=f"user:{own.pk}", title="forged", explanation="x", details={"vault_ids": [prod_vault.pk], "elevated": {prod_vault.name: ["manage_vault"]}},
        first_seen=timezone.now(), last_seen=timezone.now(),
    )  # fmt: skip

    proposal = plans.proposal_for([*findings, forged])

    assert [(s.op_user, s.params["permissions"]) for s in proposal.specs] == [(gone, ["edit_items", "view_items"])]
