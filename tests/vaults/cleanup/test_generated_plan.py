"""The generated six-phase plan on a planted organisation fills every phase with exactly the
expected actions (issue 19), shows open → expected counts per finding kind, and grant changes no
identity can run become manual steps that say what to click and are verified by the next sync."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from vaults.cleanup import execute, manual_steps, plans
from vaults.cleanup.models import ProposedAction
from vaults.fake_op import account as account_file
from vaults.fake_op.commands import new_canary
from vaults.fake_op.demo import generate_organisation
from vaults.fake_op.demo_catalog import NORMAL_PERMISSIONS
from vaults.findings.engine import compute_findings
from vaults.findings.models import Finding, Policy
from vaults.models import Account, Item, OpGroup, OpUser, Vault, VaultGrant

from .conftest import REPO_ROOT, FakeOrg, approved_plan

Kind = ProposedAction.Kind
Phase = ProposedAction.Phase
Status = ProposedAction.Status

OVER_PERMISSIONED = "Jonas Ivanova"
SYNC_IDENTITY = "OpenClaw Sync"


def _by_title(data: dict[str, Any], title: str) -> dict[str, Any]:
    [item] = [i for i in data["items"] if i["title"] == title and i["state"] == "ACTIVE"]
    return item


def _plant(data: dict[str, Any]) -> None:
    """On top of the seed's own findings (a duplicate pair, three unclear names, two orphans, two
    items without tags, people with access through groups): two weak secrets, one secret reused by
    two services, a direct manage grant, and the sync identity holding manage rights (decoy)."""
    account_file.set_secret(data, _by_title(data, "Grafana Staging Admin Login"), "password123", strength="WEAK")
    account_file.set_secret(data, _by_title(data, "Heroku Production Postgres Database"), "Welcome1", strength="WEAK")
    shared = new_canary()
    for title in ("Heroku Shared Console Login", "Mailgun Corporate Support Login"):
        account_file.set_secret(data, _by_title(data, title), shared)
    users = {u["name"]: u["id"] for u in data["users"]}
    vaults = {v["name"]: v for v in data["vaults"]}
    vaults["Platform Staging"]["user_grants"].append(
        {"user_id": users[OVER_PERMISSIONED], "permissions": [*NORMAL_PERMISSIONS, "manage_vault"]}
    )
    for grant in vaults["Corporate IT"]["user_grants"]:
        if grant["user_id"] == users[SYNC_IDENTITY]:
            grant["permissions"] = [*grant["permissions"], "manage_vault"]


@pytest.fixture
def planted_org(db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any, team_lead: User) -> FakeOrg:
    data = generate_organisation(
        seed=3, vaults=8, items=40, users=12, groups=6, now=datetime.now(UTC).replace(microsecond=0)
    )
    _plant(data)
    path = tmp_path / "account.json"
    account_file.save(path, data)
    call_log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_OP_ACCOUNT", str(path))
    monkeypatch.setenv("FAKE_OP_CALL_LOG", str(call_log))
    monkeypatch.setenv("OP_SERVICE_ACCOUNT_TOKEN", data["tokens"][0]["token"])
    settings.OP_BIN = str(REPO_ROOT / "bin" / "fake-op")
    account = Account.objects.create(name="Acme", token_env="OP_SERVICE_ACCOUNT_TOKEN")
    org = FakeOrg(path=path, call_log=call_log, account=account, service_account_id=data["tokens"][0]["user_id"])
    org.sync()
    account.refresh_from_db()  # the sync recorded its own identity (whoami)
    compute_findings(account=account)
    Vault.objects.filter(account=account).update(owner=team_lead)
    return org


def _describe(action: ProposedAction) -> tuple[str, str, str]:
    if action.kind == Kind.REVOKE_USER:
        target = f"{action.op_user.name} on {action.vault.name}: {','.join(action.param('permissions'))}"
    elif action.kind == Kind.CONSOLIDATE_DUPLICATES:
        keep = Item.objects.select_related("vault").get(pk=action.param("keep_item_id"))
        archive = Item.objects.filter(pk__in=action.param("archive_item_ids")).select_related("vault")
        copies = sorted(f"{i.title} ({i.vault.name})" for i in archive)
        target = f"keep {keep.title} ({keep.vault.name}); archive {', '.join(copies)}"
    elif action.kind == Kind.RENAME_ITEM:
        target = f"{action.item.title} -> {action.param('title')}"
    else:
        target = action.item.title
    return action.kind, target, action.identity


def test_the_generated_plan_fills_all_six_phases_with_exactly_the_expected_actions(
    planted_org: FakeOrg, team_lead: User, client_for
) -> None:
    Policy.global_policy()
    Policy.objects.filter(vault=None).update(allow_generate_password=True)
    account = planted_org.account
    # Decoy: an accepted finding is not in the plan.
    token = Finding.objects.get(account=account, kind=Finding.Kind.UNCLEAR_NAME, item__title="Token")
    Finding.objects.filter(pk=token.pk).update(status=Finding.Status.ACCEPTED, accepted_reason="legacy CI name")
    sync_identity = OpUser.objects.get(account=account, name=SYNC_IDENTITY)
    assert VaultGrant.objects.filter(user=sync_identity, permissions__contains=["manage_vault"]).exists()

    plan, _ = plans.generate_plan(account=account, proposed_by=team_lead)

    phases: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    for action in plan.actions.select_related("item", "vault", "op_user"):
        assert action.status == Status.PROPOSED  # every action still waits for the approval gate
        phases[action.phase].append(_describe(action))
    reused = {"Heroku Shared Console Login", "Mailgun Corporate Support Login"}
    rotated = sorted(phases[Phase.ROTATE])
    # A reused secret keeps exactly one of its items; the other is rotated (through op: a LOGIN).
    rotated_reused = [r for r in rotated if r[1] in reused]
    assert rotated_reused in (
        [(Kind.ROTATE_SECRET, "Heroku Shared Console Login", "service_account")],
        [(Kind.ROTATE_SECRET, "Mailgun Corporate Support Login", "service_account")],
    )
    assert {p: sorted(a) for p, a in phases.items() if p != Phase.ROTATE} == {
        Phase.CONSOLIDATE: [
            (
                Kind.CONSOLIDATE_DUPLICATES,
                "keep PyPI Production API Token (Payments Production); archive PyPI Production API Token (Platform Staging)",
                "service_account",
            )
        ],
        Phase.NAMES: [
            (Kind.RENAME_ITEM, "API Key -> IT Shared API Key", "service_account"),
            (Kind.RENAME_ITEM, "Password -> Payments Development Password", "service_account"),
        ],
        Phase.PERMISSIONS: [(Kind.REVOKE_USER, f"{OVER_PERMISSIONED} on Platform Staging: manage_vault", "manual")],
        Phase.ORPHANED: [
            (Kind.ARCHIVE_ITEM, "Intercom Production Escalation Notes", "service_account"),
            (Kind.ARCHIVE_ITEM, "Vercel Staging Console Login", "service_account"),
        ],
        Phase.METADATA: [
            (Kind.SET_TAGS, "Fastly Shared Dashboard Login", "service_account"),
            (Kind.SET_TAGS, "Workday Shared Escalation Notes", "service_account"),
        ],
    }
    assert [r for r in rotated if r[1] not in reused] == [
        (Kind.ROTATE_SECRET, "Grafana Staging Admin Login", "service_account"),  # a LOGIN: op generates
        (Kind.ROTATE_SECRET, "Heroku Production Postgres Database", "manual"),  # a database: a person
    ]
    # Decoy: the sync identity's manage grant is never proposed for revocation.
    assert not plan.actions.filter(op_user=sync_identity).exists()
    # People whose access comes only through groups get guidance instead of a group revocation.
    leaver = Finding.objects.get(account=account, kind=Finding.Kind.OVER_PERMISSIONED, op_user__name="Alice Fischer")
    specs, reason = plans.specs_for_finding(leaver)
    assert specs == []
    assert "In 1Password.com → Groups → each group → Members, remove Alice Fischer" in reason
    assert "delete the suspended account" in reason
    assert not plan.actions.filter(kind=Kind.REVOKE_GROUP).exists()

    counts = {c.kind: (c.now, c.after) for c in plans.finding_counts(plan)}
    assert counts[Finding.Kind.WEAK] == (2, 0)
    assert counts[Finding.Kind.REUSED_SECRET] == (1, 0)
    assert counts[Finding.Kind.UNCLEAR_NAME] == (2, 0)  # the accepted one is not open
    assert counts[Finding.Kind.DUPLICATE] == (1, 0)
    assert counts[Finding.Kind.ORPHANED] == (2, 0)
    open_over = counts[Finding.Kind.OVER_PERMISSIONED][0]
    assert counts[Finding.Kind.OVER_PERMISSIONED] == (open_over, open_over - 1)  # group-only access stays

    page = client_for(team_lead).get(reverse("cleanup:plan", args=[plan.pk])).content.decode()
    assert "Open findings by kind: now → expected after this plan" in page
    assert 'data-kind="weak"><td>Weak secret</td><td>2</td><td>0</td>' in page
    assert "Under People, find Jonas Ivanova" in page  # the manual revocation says what to click


def test_a_manual_group_revocation_says_what_to_click_and_is_verified_by_the_next_sync(
    fake_org: FakeOrg, team_lead, approver, second_approver, admin_user, django_capture_on_commit_callbacks
) -> None:
    grant = VaultGrant.objects.filter(group__isnull=False).select_related("vault", "group").order_by("pk").first()
    assert grant is not None
    spec = plans.ActionSpec(
        Kind.REVOKE_GROUP, grant.vault, op_group=grant.group, params={"permissions": list(grant.permissions)}
    )
    plan = approved_plan(
        account=fake_org.account, proposer=team_lead, approvers=[approver, second_approver], specs=[spec]
    )
    action = plan.actions.get()
    assert action.identity == ProposedAction.Identity.MANUAL  # no identity may change this vault's grants

    steps = manual_steps.instructions(action)
    assert f"Select Vaults in the sidebar, then the vault “{grant.vault.name}”." in steps
    assert f"Under Groups, find the group “{grant.group.name}” and choose Manage" in steps[2]
    assert "Remove from vault" in steps[3]  # every permission goes

    execute.execute_plan(plan_id=plan.pk)
    with django_capture_on_commit_callbacks(execute=True):
        execute.mark_manual_done(action=ProposedAction.objects.get(pk=action.pk), user=admin_user)
    action.refresh_from_db()
    assert action.status == Status.MANUAL_DONE  # decoy: marked done, not done

    with account_file.locked_update(fake_org.path) as data:
        vault = account_file.find(data["vaults"], grant.vault.op_id)
        vault["group_grants"] = [g for g in vault["group_grants"] if g["group_id"] != grant.group.op_id]
    run = fake_org.sync()
    execute.reconcile_after_sync(plan_id=plan.pk, sync_run_id=run.pk)
    action.refresh_from_db()
    assert action.status == Status.VERIFIED
    assert grant.group is not None and OpGroup.objects.filter(pk=grant.group.pk).exists()  # the group stays


def test_a_manual_move_says_what_to_click_and_is_verified_by_the_next_sync(
    fake_org: FakeOrg, team_lead, approver, admin_user, django_capture_on_commit_callbacks
) -> None:
    item = Item.objects.filter(vault__name="Corporate IT", archived=False).order_by("pk").first()
    destination = Vault.objects.get(account=fake_org.account, name="Customer API Development")
    spec = plans.ActionSpec(Kind.MOVE_ITEM, item.vault, item=item, destination_vault=destination)
    plan = approved_plan(account=fake_org.account, proposer=team_lead, approvers=[approver], specs=[spec])
    action = plan.actions.get()
    # As for a personal vault's item: nobody but its owner can move it.
    ProposedAction.objects.filter(pk=action.pk).update(identity=ProposedAction.Identity.MANUAL)
    action.refresh_from_db()
    steps = manual_steps.instructions(action)
    assert steps[0] == f"In the 1Password app, open the vault “Corporate IT” and select “{item.title}”."
    assert "Move, pick “Customer API Development”" in steps[1]

    execute.execute_plan(plan_id=plan.pk)
    with django_capture_on_commit_callbacks(execute=True):
        execute.mark_manual_done(action=ProposedAction.objects.get(pk=action.pk), user=admin_user)
    action.refresh_from_db()
    assert action.status == Status.MANUAL_DONE  # decoy: the item is still in Corporate IT

    stored = planted = fake_org.item(item.op_id)
    assert stored is not None
    account_file.remove_item(fake_org.path, item.op_id)
    account_file.add_item(
        fake_org.path,
        {k: v for k, v in planted.items() if k not in ("id", "vault_id", "version")} | {"vault_id": destination.op_id},
    )
    run = fake_org.sync()
    execute.reconcile_after_sync(plan_id=plan.pk, sync_run_id=run.pk)
    action.refresh_from_db()
    assert action.status == Status.VERIFIED
