"""Adversarial review of guided rotation (issue 19): who may attest a rotation, and what its
fingerprint references give away. Real fake `op` subprocess and PostgreSQL, no mocks.

Each test states the invariant an attacker or a SOC 2 auditor would check; a decoy beside each
shows the legitimate path still works, so a test that goes red names the hole, not a broken setup.
"""

from __future__ import annotations

import json

from django.urls import reverse

from compliance.models import AuditLogEntry
from tests.vaults.cleanup.conftest import FakeOrg, approved_plan, draft_plan, fake_org  # noqa: F401 (fixture)
from vaults.cleanup import execute, plans, rotation
from vaults.cleanup.models import ProposedAction
from vaults.findings.models import Policy
from vaults.models import Item, SecretField

Kind = ProposedAction.Kind
Status = ProposedAction.Status


def _manual_item() -> Item:
    """A database password outside production: always a person's rotation, one approval."""
    item = (
        Item.objects.filter(category="DATABASE", archived=False, secret_fields__fingerprint__isnull=False)
        .exclude(vault__classification="production")
        .order_by("pk")
        .first()
    )
    assert item is not None
    return item


def _spec(item: Item) -> plans.ActionSpec:
    return plans.ActionSpec(
        Kind.ROTATE_SECRET, item.vault, item=item, params=rotation.rotation_params(item, Policy.for_vault(item.vault))
    )


def _waiting_manual_rotation(fake_org: FakeOrg, proposer, approver) -> ProposedAction:  # noqa: F811
    plan = approved_plan(
        account=fake_org.account, proposer=proposer, approvers=[approver], specs=[_spec(_manual_item())]
    )
    execute.execute_plan(plan_id=plan.pk)
    action = plan.actions.get()
    assert action.status == Status.MANUAL
    return action


def test_fingerprint_refs_do_not_tell_two_items_with_the_same_secret_apart(fake_org: FakeOrg) -> None:  # noqa: F811
    """rotation.py promises the recorded digest "cannot be compared with anything outside this
    action". It is sha256(constant + fingerprint): two rotations of items that share a secret carry
    the same reference, so anyone reading plans (every role with VIEW_CLEANUP, the audit log)
    learns which secrets are shared, and the digest is a stable 64-bit handle on the value."""
    first, second = Item.objects.filter(secret_fields__field_id="password").distinct().order_by("pk")[:2]
    shared = SecretField.objects.get(item=first, field_id="password").fingerprint
    SecretField.objects.filter(item=second, field_id="password").update(fingerprint=shared)
    # Decoy: the items really are different items in the inventory.
    assert first.pk != second.pk and first.op_id != second.op_id

    policy = Policy.for_vault(first.vault)
    refs_first = rotation.rotation_params(first, policy)["fingerprint_refs"]["password"]
    refs_second = rotation.rotation_params(second, policy)["fingerprint_refs"]["password"]
    assert refs_first != refs_second, "the same secret gives the same reference in two rotations"


def test_editing_a_draft_rotation_does_not_copy_fingerprint_refs_or_readers_into_the_audit_log(
    fake_org: FakeOrg,  # noqa: F811
    admin_user,
    client_for,
) -> None:
    """The audit log is append-only and exported as evidence: an edit of any draft action logs
    `action.params` whole, and a rotation's params hold fingerprint digests (and readers' IPs).
    A POST with an ignored field is enough; nothing about the rotation changes."""
    item = _manual_item()
    plan = draft_plan(account=fake_org.account, proposer=admin_user, specs=[_spec(item)])
    action = plan.actions.get()
    digests = list(action.param("fingerprint_refs").values())
    assert digests  # decoy: the item has a fingerprint to refer to

    client_for(admin_user).post(reverse("cleanup:action_edit", args=[action.pk]), {"title": "irrelevant"})

    logged = AuditLogEntry.objects.filter(action="cleanup.action.edited", target_id=str(action.pk))
    assert logged.exists()
    text = json.dumps([entry.details for entry in logged])
    for digest in digests:
        assert digest not in text, "a fingerprint reference was written into the audit log"
