"""Execution against the real fake `op` subprocess: the account file changes, the rows follow,
and retries, crashes, failures and manual steps behave."""

from __future__ import annotations

import datetime

from django.utils import timezone

from compliance.models import AuditLogEntry
from vaults.cleanup import execute, plans
from vaults.cleanup.models import Approval, ProposedAction
from vaults.cleanup.tasks import execute_action_task, execute_plan_task
from vaults.fake_op import account as account_file
from vaults.findings.models import Policy
from vaults.models import Item, OpGroup, Vault, VaultGrant

from .conftest import PRIVILEGED_ENV, FakeOrg, approved_plan

Kind = ProposedAction.Kind
Status = ProposedAction.Status


def _item(vault_name: str, n: int = 0) -> Item:
    return Item.objects.filter(vault__name=vault_name, archived=False, removed_at__isnull=True).order_by("pk")[n]


def _spec(kind: str, item: Item, **params: object) -> plans.ActionSpec:
    return plans.ActionSpec(kind, item.vault, item=item, params=dict(params))


def test_rename_and_archive_change_the_fake_account_file(fake_org: FakeOrg, team_lead, approver):
    rename, archive = _item("Shared Engineering", 0), _item("Shared Engineering", 1)
    plan = approved_plan(
        account=fake_org.account,
        proposer=team_lead,
        approvers=[approver],
        specs=[
            _spec(Kind.RENAME_ITEM, rename, title="Stripe Shared API Key"),
            _spec(Kind.ARCHIVE_ITEM, archive),
        ],
    )

    run = execute.execute_plan(plan_id=plan.pk)

    assert len(run.done) == 2
    assert fake_org.item(rename.op_id)["title"] == "Stripe Shared API Key"
    assert fake_org.item(archive.op_id)["state"] == "ARCHIVED"
    assert Item.objects.get(pk=rename.pk).title == "Stripe Shared API Key"
    assert Item.objects.get(pk=archive.pk).archived
    assert all("--archive" in c["argv"] for c in fake_org.write_calls("item delete"))
    executed = AuditLogEntry.objects.filter(action="cleanup.action.done", actor_label="cleanup worker")
    assert executed.count() == 2


def test_privileged_identity_revokes_a_user_grant_on_a_vault_the_service_account_did_not_create(
    fake_org: FakeOrg, team_lead, approver, second_approver
):
    fake_org.account.privileged_token_env = PRIVILEGED_ENV
    fake_org.account.save()
    grant = (
        VaultGrant.objects.filter(user__isnull=False)
        .exclude(user__user_type="SERVICE_ACCOUNT")
        .select_related("vault", "user")
        .first()
    )
    assert grant is not None and fake_org.vault(grant.vault.op_id)["created_by"] != fake_org.service_account_id
    spec = plans.ActionSpec(
        Kind.REVOKE_USER, grant.vault, op_user=grant.user, params={"permissions": list(grant.permissions)}
    )
    plan = approved_plan(
        account=fake_org.account, proposer=team_lead, approvers=[approver, second_approver], specs=[spec]
    )
    assert plan.actions.get().identity == ProposedAction.Identity.PRIVILEGED

    execute.execute_plan(plan_id=plan.pk)

    assert plan.actions.get().status == Status.DONE
    user_ids = [g["user_id"] for g in fake_org.vault(grant.vault.op_id)["user_grants"]]
    assert grant.user.op_id not in user_ids
    assert not VaultGrant.objects.filter(pk=grant.pk).exists()


def test_service_account_revokes_a_group_grant_on_a_vault_it_created(
    fake_org: FakeOrg, team_lead, approver, second_approver
):
    data = fake_org.data()
    own = next(v for v in data["vaults"] if v["created_by"] == fake_org.service_account_id and v["group_grants"])
    vault = Vault.objects.get(op_id=own["id"])
    Vault.objects.filter(pk=vault.pk).update(created_by_op_id=fake_org.service_account_id)
    vault.refresh_from_db()
    group = OpGroup.objects.get(op_id=own["group_grants"][0]["group_id"])
    spec = plans.ActionSpec(
        Kind.REVOKE_GROUP, vault, op_group=group, params={"permissions": own["group_grants"][0]["permissions"]}
    )
    plan = approved_plan(
        account=fake_org.account, proposer=team_lead, approvers=[approver, second_approver], specs=[spec]
    )
    assert plan.actions.get().identity == ProposedAction.Identity.SERVICE_ACCOUNT

    execute.execute_plan(plan_id=plan.pk)

    assert plan.actions.get().status == Status.DONE
    assert group.op_id not in [g["group_id"] for g in fake_org.vault(vault.op_id)["group_grants"]]


def test_a_service_account_refused_a_grant_change_turns_it_into_a_manual_step(
    fake_org: FakeOrg, team_lead, approver, second_approver
):
    data = fake_org.data()
    other = next(v for v in data["vaults"] if v["created_by"] != fake_org.service_account_id and v["group_grants"])
    vault = Vault.objects.get(op_id=other["id"])
    # We wrongly believe the service account created it: 1Password's 403 corrects us.
    Vault.objects.filter(pk=vault.pk).update(created_by_op_id=fake_org.service_account_id)
    vault.refresh_from_db()
    group = OpGroup.objects.get(op_id=other["group_grants"][0]["group_id"])
    spec = plans.ActionSpec(Kind.REVOKE_GROUP, vault, op_group=group, params={"permissions": ["view_items"]})
    plan = approved_plan(
        account=fake_org.account, proposer=team_lead, approvers=[approver, second_approver], specs=[spec]
    )

    execute.execute_plan(plan_id=plan.pk)

    action = plan.actions.get()
    assert action.status == Status.MANUAL
    assert action.identity == ProposedAction.Identity.MANUAL
    assert "view_items" in fake_org.vault(vault.op_id)["group_grants"][0]["permissions"]


def test_revocation_without_a_capable_identity_is_a_manual_step_verified_only_by_a_sync(
    fake_org: FakeOrg, team_lead, approver, second_approver, admin_user, django_capture_on_commit_callbacks
):
    grant = (
        VaultGrant.objects.filter(user__isnull=False)
        .exclude(user__user_type="SERVICE_ACCOUNT")
        .select_related("vault", "user")
        .first()
    )
    spec = plans.ActionSpec(
        Kind.REVOKE_USER, grant.vault, op_user=grant.user, params={"permissions": list(grant.permissions)}
    )
    plan = approved_plan(
        account=fake_org.account, proposer=team_lead, approvers=[approver, second_approver], specs=[spec]
    )
    action = plan.actions.get()
    assert action.identity == ProposedAction.Identity.MANUAL

    execute.execute_plan(plan_id=plan.pk)
    action.refresh_from_db()
    assert action.status == Status.MANUAL
    assert fake_org.write_calls() == []

    # Marked done but not actually done: the sync does not confirm it.
    with django_capture_on_commit_callbacks(execute=True):
        execute.mark_manual_done(action=action, user=admin_user)
    action.refresh_from_db()
    assert action.status == Status.MANUAL_DONE
    assert "does not show the change" in action.verification_note

    # The administrator really runs it; the next sync verifies.
    account_file.set_user_grant(fake_org.path, grant.vault.op_id, grant.user.op_id, [])
    run = fake_org.sync()
    execute.reconcile_after_sync(plan_id=plan.pk, sync_run_id=run.pk)
    action.refresh_from_db()
    assert action.status == Status.VERIFIED


def test_moved_item_gets_a_new_id_and_the_item_row_follows_it(fake_org: FakeOrg, team_lead, approver):
    item = _item("Shared Engineering")
    destination = Vault.objects.get(name="Corporate IT")
    old_op_id = item.op_id
    spec = plans.ActionSpec(Kind.MOVE_ITEM, item.vault, item=item, destination_vault=destination)
    plan = approved_plan(account=fake_org.account, proposer=team_lead, approvers=[approver], specs=[spec])

    execute.execute_plan(plan_id=plan.pk)

    action = plan.actions.get()
    new_op_id = action.result["new_item_op_id"]
    assert action.status == Status.DONE and new_op_id != old_op_id
    assert fake_org.item(old_op_id) is None
    assert fake_org.item(new_op_id)["vault_id"] == destination.op_id
    row = Item.objects.get(pk=item.pk)
    assert (row.op_id, row.vault_id) == (new_op_id, destination.pk)
    fake_org.sync()  # the next sync keeps the same row rather than deleting and re-adding it
    assert Item.objects.get(pk=item.pk).removed_at is None
    assert Item.objects.filter(op_id=new_op_id).count() == 1


def test_a_failure_in_the_middle_leaves_done_actions_done_and_the_rest_pending(fake_org: FakeOrg, team_lead, approver):
    first, missing, last = (_item("Shared Engineering", n) for n in range(3))
    plan = approved_plan(
        account=fake_org.account,
        proposer=team_lead,
        approvers=[approver],
        specs=[
            _spec(Kind.RENAME_ITEM, first, title="First Shared Login"),
            _spec(Kind.ARCHIVE_ITEM, missing),
            _spec(Kind.RENAME_ITEM, last, title="Last Shared Login"),
        ],
    )
    account_file.remove_item(fake_org.path, missing.op_id)  # gone from 1Password since the sync

    run = execute.execute_plan(plan_id=plan.pk)

    statuses = list(plan.actions.order_by("position").values_list("status", flat=True))
    assert statuses == [Status.DONE, Status.FAILED, Status.APPROVED]
    failed = plan.actions.get(status=Status.FAILED)
    assert "isn't an item" in failed.error or "not" in failed.error.lower()
    assert len(run.failed) == 1
    assert fake_org.item(last.op_id)["title"] != "Last Shared Login"


def test_a_retried_task_never_runs_a_done_action_twice(fake_org: FakeOrg, team_lead, approver):
    item = _item("Corporate IT")
    plan = approved_plan(
        account=fake_org.account,
        proposer=team_lead,
        approvers=[approver],
        specs=[_spec(Kind.SET_TAGS, item, tags=["team-it", "corporate"])],
    )
    action = plan.actions.get()

    execute_plan_task.apply(args=(plan.pk,))
    execute_plan_task.apply(args=(plan.pk,))  # redelivered after acks_late
    execute_action_task.apply(args=(action.pk,))

    assert len(fake_org.write_calls("item edit")) == 1
    assert fake_org.item(item.op_id)["tags"] == ["team-it", "corporate"]


def test_an_action_left_executing_by_a_crash_is_not_rerun_but_settled_by_the_next_sync(
    fake_org: FakeOrg, team_lead, approver
):
    done_item, undone_item = _item("Shared Engineering", 0), _item("Shared Engineering", 1)
    plan = approved_plan(
        account=fake_org.account,
        proposer=team_lead,
        approvers=[approver],
        specs=[
            _spec(Kind.RENAME_ITEM, done_item, title="Crashed Shared Login"),
            _spec(Kind.RENAME_ITEM, undone_item, title="Never Shared Login"),
        ],
    )
    long_ago = timezone.now() - datetime.timedelta(hours=2)
    plan.actions.update(status=Status.EXECUTING, started_at=long_ago)
    # The worker died after op renamed the first item but before it recorded the result.
    account_file.rename_item(fake_org.path, done_item.op_id, "Crashed Shared Login")

    for action in plan.actions.all():
        execute_action_task.apply(args=(action.pk,))
    assert fake_org.write_calls() == []

    run = fake_org.sync()
    execute.reconcile_after_sync(plan_id=plan.pk, sync_run_id=run.pk)
    settled = dict(plan.actions.values_list("item_id", "status"))
    assert settled == {done_item.pk: Status.DONE, undone_item.pk: Status.FAILED}
    assert fake_org.write_calls() == []


def test_an_expired_approval_cannot_execute(fake_org: FakeOrg, team_lead, approver):
    item = _item("Corporate IT")
    plan = approved_plan(
        account=fake_org.account,
        proposer=team_lead,
        approvers=[approver],
        specs=[_spec(Kind.RENAME_ITEM, item, title="Expired Corporate Login")],
    )
    Approval.objects.filter(action__plan=plan).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))

    execute.execute_plan(plan_id=plan.pk)

    action = plan.actions.get()
    assert action.status == Status.PROPOSED
    assert "expired" in action.error
    assert fake_org.write_calls() == []


def test_conflicts_are_retried_and_the_action_completes(fake_org: FakeOrg, team_lead, approver, monkeypatch, settings):
    monkeypatch.setenv("FAKE_OP_CONFLICT_TIMES", "2")
    item = _item("Corporate IT")
    plan = approved_plan(
        account=fake_org.account,
        proposer=team_lead,
        approvers=[approver],
        specs=[_spec(Kind.SET_URL, item, url="https://it.example.com")],
    )

    execute.execute_plan(plan_id=plan.pk)

    assert plan.actions.get().status == Status.DONE
    assert len(fake_org.write_calls("item edit")) == 3
    assert fake_org.item(item.op_id)["urls"][0]["href"] == "https://it.example.com"


def test_consolidation_keeps_the_picked_copy_and_archives_the_others(
    fake_org: FakeOrg, team_lead, approver, second_approver
):
    from vaults.findings.models import Finding

    finding = Finding.objects.filter(kind=Finding.Kind.DUPLICATE, status=Finding.Status.OPEN).first()
    assert finding is not None
    plan, _ = plans.create_plan_from_findings(findings=[finding], proposed_by=team_lead)
    action = plan.actions.get()
    copies = action.params["candidate_item_ids"]
    keep = copies[-1]
    plans.update_action(action=action, user=team_lead, values={"keep_item_id": keep})
    plans.submit_plan(plan=plan, user=team_lead)
    from vaults.cleanup import approval

    for person in (approver, second_approver):
        if not approval.refusal(plan.actions.get(), person):
            approval.approve_action(action=plan.actions.get(), approver=person)

    execute.execute_plan(plan_id=plan.pk)

    assert plan.actions.get().status == Status.DONE
    states = {i.pk: fake_org.item(i.op_id)["state"] for i in Item.objects.filter(pk__in=copies)}
    assert states[keep] == "ACTIVE"
    assert all(state == "ARCHIVED" for pk, state in states.items() if pk != keep)


def test_rotation_runs_through_op_only_where_policy_allows_it(fake_org: FakeOrg, team_lead, approver):
    item = Item.objects.filter(
        vault__name="Corporate IT", category="LOGIN", secret_fields__isnull=False, archived=False
    ).first()
    assert item is not None
    stored = fake_org.item(item.op_id)
    assert stored is not None
    before = dict(stored)
    spec = _spec(Kind.ROTATE_SECRET, item, recipe="letters,digits,symbols,32")

    # The default policy lets op generate nothing: the rotation is a manual step, op is never called.
    plan = approved_plan(account=fake_org.account, proposer=team_lead, approvers=[approver], specs=[spec])
    action = plan.actions.get()
    assert action.identity == ProposedAction.Identity.MANUAL and action.param("checklist")
    execute.execute_plan(plan_id=plan.pk)
    action.refresh_from_db()
    assert action.status == Status.MANUAL
    assert fake_org.write_calls() == []

    Policy.objects.create(vault=item.vault, allow_generate_password=True)
    plan = approved_plan(account=fake_org.account, proposer=team_lead, approvers=[approver], specs=[spec])
    action = plan.actions.get()
    assert action.identity == ProposedAction.Identity.SERVICE_ACCOUNT
    # The policy changes between approval and execution: the worker re-checks it.
    Policy.objects.filter(vault=item.vault).update(generate_password_categories=["PASSWORD"])
    execute.execute_plan(plan_id=plan.pk)
    action.refresh_from_db()
    assert action.status == Status.FAILED and "policy" in action.error
    assert fake_org.write_calls() == []

    Policy.objects.filter(vault=item.vault).update(generate_password_categories=["LOGIN"])
    ProposedAction.objects.filter(pk=action.pk).update(status=Status.APPROVED)
    execute.execute_plan(plan_id=plan.pk)
    action.refresh_from_db()
    assert action.status == Status.DONE
    assert fake_org.item(item.op_id)["version"] > before["version"]


def test_execution_queues_a_follow_up_sync_and_records_findings_and_health_after(
    fake_org: FakeOrg, team_lead, approver, django_capture_on_commit_callbacks
):
    from vaults.findings.engine import compute_findings
    from vaults.findings.models import Finding
    from vaults.models import Item

    # The demo's one planted orphan may land in any vault; a deprecated note in a shared vault keeps
    # this plan clear of the production second-approver gate whatever the generator picked.
    note = Item.objects.filter(
        vault__account=fake_org.account, vault__classification="shared", category="SECURE_NOTE", archived=False
    ).first()
    assert note is not None
    note.tags = [*note.tags, "deprecated"]
    note.save()
    compute_findings(account=fake_org.account)
    orphan = Finding.objects.filter(kind=Finding.Kind.ORPHANED, status=Finding.Status.OPEN, item=note).first()
    assert orphan is not None
    plan, _ = plans.create_plan_from_findings(findings=[orphan], proposed_by=team_lead)
    plans.submit_plan(plan=plan, user=team_lead)
    from vaults.cleanup import approval

    approval.approve_plan(plan=plan, approver=approver)

    with django_capture_on_commit_callbacks(execute=True):
        run = execute.execute_plan(plan_id=plan.pk)

    plan.refresh_from_db()
    assert run.follow_up_sync is not None and plan.follow_up_sync_id == run.follow_up_sync.pk
    assert run.follow_up_sync.scope == "items"
    # The archived item's other findings (metadata, rotation) resolve with it.
    assert plan.findings_after is not None and plan.findings_after < plan.findings_before
    assert plan.health_after is not None
    orphan.refresh_from_db()
    assert orphan.status == Finding.Status.RESOLVED
