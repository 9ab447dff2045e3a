"""Guided rotation (issue 19): policy decides op or a person, places from metadata only, a
checklist the executor ticks (persisted per person, audit-logged), and the next sync proving the
new fingerprint. Runs against the real fake `op` subprocess and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from compliance.models import AuditLogEntry
from vaults.cleanup import execute, plans, rotation
from vaults.cleanup.models import CleanupPlan, ProposedAction
from vaults.fake_op import account as account_file
from vaults.findings.models import Policy
from vaults.models import Item, ItemUsage, SecretField

from .conftest import FakeOrg, approved_plan

Kind = ProposedAction.Kind
Status = ProposedAction.Status
Identity = ProposedAction.Identity


def _first(category: str, **filters: object) -> Item:
    item = (
        Item.objects.filter(category=category, archived=False, secret_fields__isnull=False, **filters)
        .exclude(vault__classification="production")  # one approval is enough outside production
        .order_by("pk")
        .first()
    )
    assert item is not None, category
    return item


def _rotation_spec(item: Item) -> plans.ActionSpec:
    return plans.ActionSpec(
        Kind.ROTATE_SECRET, item.vault, item=item, params=rotation.rotation_params(item, Policy.for_vault(item.vault))
    )


def _allow_op() -> None:
    Policy.global_policy()
    Policy.objects.filter(vault=None).update(allow_generate_password=True, password_recipe="letters,digits,40")


def test_policy_decides_which_categories_op_rotates_and_which_need_a_person(fake_org: FakeOrg) -> None:
    login, database, ssh = _first("LOGIN"), _first("DATABASE"), _first("SSH_KEY")

    # Default: op generates nothing.
    assert not rotation.mode_for(login, Policy.for_vault(login.vault)).via_op

    _allow_op()
    policy = Policy.for_vault(None)
    assert rotation.mode_for(login, policy).via_op
    # Decoys: rotating categories whose source must change in the same step stay manual.
    assert not rotation.mode_for(database, policy).via_op
    assert "by hand" in rotation.mode_for(database, policy).reason
    assert not rotation.mode_for(ssh, policy).via_op

    params = rotation.rotation_params(login, policy)
    assert params["recipe"] == "letters,digits,40" and params["via_op"] is True
    # A vault's override wins for that vault.
    Policy.objects.create(vault=login.vault, generate_password_categories=["PASSWORD"])
    assert not rotation.mode_for(login, Policy.for_vault(login.vault)).via_op


def test_an_item_with_more_secrets_than_its_password_is_rotated_by_a_person(fake_org: FakeOrg) -> None:
    """op generates only the password, and a rotation counts once every secret changed: an item
    with a second secret field would never verify, so it goes to a person."""
    _allow_op()
    policy = Policy.for_vault(None)
    login = _first("LOGIN")
    assert rotation.mode_for(login, policy).via_op  # decoy: the password alone, op rotates it
    SecretField.objects.create(item=login, field_id="recovery_code", fingerprint="f" * 64)

    mode = rotation.mode_for(login, policy)

    assert not mode.via_op
    assert "recovery_code" in mode.reason and "every one" in mode.reason
    # A field op no longer returns a value for (no fingerprint) proves nothing and changes nothing.
    SecretField.objects.filter(item=login, field_id="recovery_code").update(fingerprint=None)
    assert rotation.mode_for(login, policy).via_op


def test_places_come_from_metadata_only_and_never_hold_a_value(fake_org: FakeOrg) -> None:
    item = _first("LOGIN")
    item.urls = [{"label": "website", "href": "https://ops:hunter2@ci.example.com/hook?token=abc123", "primary": True}]
    item.tags = ["ci", "payments"]
    item.save()
    ItemUsage.objects.create(
        account=fake_org.account,
        uuid="u-1",
        timestamp=timezone.now() - timedelta(days=3),
        user_op_id="SVC1",
        user_name="deploy-bot",
        item_op_id=item.op_id,
        vault_op_id=item.vault.op_id,
        action="secure-copy",
        client_ip="10.1.2.3",
        client_app="op CLI",
    )
    ItemUsage.objects.create(  # decoy: a use outside the 90-day window is not a current place
        account=fake_org.account,
        uuid="u-2",
        timestamp=timezone.now() - timedelta(days=200),
        user_op_id="OLD1",
        user_name="old-cron",
        item_op_id=item.op_id,
        vault_op_id=item.vault.op_id,
    )

    params = rotation.rotation_params(item, Policy.for_vault(item.vault))

    labels = [p["label"] for p in params["places"]]
    assert "https://ci.example.com/hook?token=REDACTED" in labels
    assert f"op://{item.vault.name}/{item.title}/password" in labels
    assert any(label.startswith("deploy-bot (person) with op CLI from 10.1.2.3") for label in labels)
    assert not any("old-cron" in label for label in labels)
    assert [p["label"] for p in params["places"] if p["kind"] == "tag"] == ["ci", "payments"]
    steps = [s["text"] for s in params["checklist"]]
    assert steps[-2:] == [
        "Confirm each service works with the new secret",
        "Confirm the old secret is revoked at the source",
    ]
    assert any("ci.example.com" in s for s in steps)
    # Nothing secret: no password, no credential from the URL, no stored fingerprint, no canary.
    text = json.dumps(params)
    fingerprint = SecretField.objects.get(item=item, field_id="password").fingerprint
    stored = fake_org.item(item.op_id)
    assert fingerprint and stored
    value = account_file.secret_field(stored)["value"]
    for secret in ("hunter2", "abc123", fingerprint, value):
        assert secret not in text
    assert params["fingerprint_refs"]["password"] == rotation.fingerprint_digest(fingerprint, params["fingerprint_salt"])


def test_op_rotation_is_complete_only_after_the_checklist_and_a_sync_showing_the_new_fingerprint(
    fake_org: FakeOrg, team_lead, approver, client_for, django_capture_on_commit_callbacks
) -> None:
    _allow_op()
    item = _first("LOGIN")
    plan = approved_plan(
        account=fake_org.account, proposer=team_lead, approvers=[approver], specs=[_rotation_spec(item)]
    )
    action = plan.actions.get()
    assert action.identity == Identity.SERVICE_ACCOUNT and action.status == Status.APPROVED

    # Nothing can be ticked before the rotation ran.
    client = client_for(approver)
    url = reverse("cleanup:checklist_tick", args=[action.pk])
    client.post(url, {"step": rotation.SERVICE_WORKS, "done": "1"})
    action.refresh_from_db()
    assert rotation.ticks(action) == {}

    execute.execute_plan(plan_id=plan.pk)
    action.refresh_from_db()
    assert action.status == Status.DONE
    [call] = fake_org.write_calls("item edit")
    assert "--generate-password=letters,digits,40" in call["argv"]
    plan = plans.refresh_status(CleanupPlan.objects.get(pk=plan.pk))
    assert plan.status == CleanupPlan.Status.ATTENTION  # checklist open, fingerprint not proven

    # Before any sync the stored facts are the old ones: not proven yet.
    assert rotation.fingerprint_changed(action) is False

    # The executor ticks every step through the page; each tick names the person.
    keys = [s["key"] for s in action.param("checklist")]
    for key in keys:
        response = client.post(url, {"step": key, "done": "1"})
        assert response.status_code == 302
    action.refresh_from_db()
    assert rotation.checklist_complete(action)
    assert {t["by"] for t in rotation.ticks(action).values()} == {approver.get_username()}
    logged = AuditLogEntry.objects.filter(action="cleanup.rotation.checklist_ticked", target_id=str(action.pk))
    assert logged.count() == len(keys) and {e.actor_label for e in logged} == {approver.get_username()}
    assert not rotation.is_complete(action)  # still waiting for the sync

    # The next sync stores the new fingerprint: verified, complete, the plan finished.
    run = fake_org.sync(scope="items")
    execute.reconcile_after_sync(plan_id=plan.pk, sync_run_id=run.pk)
    action.refresh_from_db()
    assert action.result["fingerprint_verified_by_sync"] == run.pk
    assert rotation.is_complete(action)
    assert plans.refresh_status(CleanupPlan.objects.get(pk=plan.pk)).status == CleanupPlan.Status.FINISHED
    page = client.get(reverse("cleanup:plan", args=[plan.pk])).content.decode()
    assert "Complete: checklist" in page and f"confirmed by sync #{run.pk}" in page


def test_an_unchanged_fingerprint_keeps_the_rotation_pending(fake_org: FakeOrg, team_lead, approver) -> None:
    item = _first("LOGIN")
    _allow_op()
    plan = approved_plan(
        account=fake_org.account, proposer=team_lead, approvers=[approver], specs=[_rotation_spec(item)]
    )
    action = plan.actions.get()
    # Recorded as done without 1Password changing (an op that said yes and did nothing).
    ProposedAction.objects.filter(pk=action.pk).update(status=Status.DONE)

    run = fake_org.sync(scope="items")
    execute.reconcile_after_sync(plan_id=plan.pk, sync_run_id=run.pk)
    action.refresh_from_db()

    assert "fingerprint_verified_by_sync" not in action.result
    assert action.result["fingerprint_unchanged_in_sync"] == run.pk
    assert "still shows the old secret" in rotation.state_label(action)
    assert execute.plans_with_unproven_rotations(fake_org.account.pk) == {plan.pk}  # every later sync retries
    assert plans.refresh_status(CleanupPlan.objects.get(pk=plan.pk)).status == CleanupPlan.Status.ATTENTION


def test_manual_rotation_needs_the_checklist_before_done_and_a_new_fingerprint_to_verify(
    fake_org: FakeOrg, team_lead, approver, admin_user, client_for, django_capture_on_commit_callbacks
) -> None:
    item = _first("DATABASE")  # a database password changes on the server: always a person
    plan = approved_plan(
        account=fake_org.account, proposer=team_lead, approvers=[approver], specs=[_rotation_spec(item)]
    )
    action = plan.actions.get()
    assert action.identity == Identity.MANUAL
    execute.execute_plan(plan_id=plan.pk)
    action.refresh_from_db()
    assert action.status == Status.MANUAL and fake_org.write_calls() == []

    page = client_for(approver).get(reverse("cleanup:plan", args=[plan.pk])).content.decode()
    assert "Change the password on the database server itself" in page
    assert "Rotation checklist" in page

    try:
        execute.mark_manual_done(action=action, user=admin_user)
        raise AssertionError("marked done with an open checklist")
    except execute.StepRefused as error:
        assert "checklist" in str(error)

    for step in action.param("checklist"):
        rotation.tick(action=action, user=admin_user, key=step["key"], done=True)
    # Marked done, but nobody changed the secret: the sync does not verify it (decoy).
    with django_capture_on_commit_callbacks(execute=True):
        execute.mark_manual_done(action=action, user=admin_user)
    action.refresh_from_db()
    assert action.status == Status.MANUAL_DONE

    account_file.edit_item_value(fake_org.path, item.op_id, "CANARY-0123456789abcdef-RotatedBy1")
    run = fake_org.sync(scope="items")
    execute.reconcile_after_sync(plan_id=plan.pk, sync_run_id=run.pk)
    action.refresh_from_db()
    assert action.status == Status.VERIFIED
    assert action.result["fingerprint_verified_by_sync"] == run.pk
    assert rotation.is_complete(action)


def test_unticking_is_recorded_and_a_viewer_cannot_tick(fake_org: FakeOrg, team_lead, approver, viewer, client_for):
    item = _first("DATABASE")
    plan = approved_plan(
        account=fake_org.account, proposer=team_lead, approvers=[approver], specs=[_rotation_spec(item)]
    )
    execute.execute_plan(plan_id=plan.pk)
    action = plan.actions.get()
    url = reverse("cleanup:checklist_tick", args=[action.pk])

    assert client_for(viewer).post(url, {"step": rotation.SERVICE_WORKS}).status_code == 403
    assert client_for(team_lead).post(url, {"step": rotation.SERVICE_WORKS}).status_code == 403
    client = client_for(approver)
    client.post(url, {"step": rotation.SERVICE_WORKS, "done": "1"})
    client.post(url, {"step": rotation.SERVICE_WORKS, "done": "0"})
    client.post(url, {"step": "no-such-step", "done": "1"})  # decoy: unknown steps are refused
    action.refresh_from_db()

    assert rotation.ticks(action) == {}
    assert AuditLogEntry.objects.filter(action="cleanup.rotation.checklist_unticked").count() == 1


def test_the_rotation_policy_page_saves_an_op_recipe_and_refuses_an_invalid_one(db, admin_user, client_for):
    client = client_for(admin_user)
    url = reverse("cleanup:rotation_policy")
    assert "every rotation is a manual step" in client.get(url).content.decode()

    response = client.post(
        url,
        {
            "allow_generate_password": "on",
            "generate_password_categories": ["LOGIN", "PASSWORD", "DATABASE"],
            "character_sets": ["letters", "digits"],
            "length": "48",
        },
    )
    assert response.status_code == 302
    policy = Policy.for_vault(None)
    assert policy.allow_generate_password and policy.password_recipe == "letters,digits,48"
    assert policy.generate_password_categories == ("LOGIN", "PASSWORD", "DATABASE")
    entry = AuditLogEntry.objects.get(action="policy.rotation_changed")
    assert entry.details["after"]["length"] == 48 and entry.details["before"]["allow_generate_password"] is False

    # Decoy: a length op refuses is not saved.
    bad = client.post(url, {"allow_generate_password": "on", "character_sets": ["letters"], "length": "8"})
    assert bad.status_code == 400
    assert Policy.for_vault(None).password_recipe == "letters,digits,48"
