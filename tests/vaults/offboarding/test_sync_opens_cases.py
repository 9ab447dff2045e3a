"""The sync opens a case when it sees a member become inactive or removed (the real fake `op`)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from compliance.models import AuditLogEntry
from vaults import sync
from vaults.models import Account, OpUser, SyncRun
from vaults.offboarding.models import OffboardingCase

pytestmark = pytest.mark.django_db(transaction=True)


def _sync(account: Account) -> SyncRun:
    started, _ = sync.start_sync(account=account, scope=SyncRun.Scope.FULL)
    run = sync.run_sync(sync_run_id=started.pk)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return run


def _edit(fake_org: Any, change: Any) -> None:
    data = fake_org.data
    change(data)
    fake_org.path.write_text(json.dumps(data))


def test_a_member_suspended_or_removed_after_the_first_sync_gets_one_case(fake_org: Any) -> None:
    account = fake_org.add_account()
    robot = {**next(u for u in fake_org.data["users"] if u["type"] == "SERVICE_ACCOUNT"),
             "id": "CIBOTSERVICEACCOUNT0000001", "name": "CI Bot", "email": "ci-bot@acme-demo.example"}
    _edit(fake_org, lambda data: data["users"].append(robot))
    _sync(account)
    # Baseline: the organisation's already-suspended member left before OpenClaw watched.
    assert OffboardingCase.objects.count() == 0
    assert OpUser.objects.filter(account=account, state="SUSPENDED").count() == 1

    members = [u for u in fake_org.data["users"] if u["type"] == "MEMBER" and u["state"] == "ACTIVE"]
    suspended, removed, recovering = members[0], members[1], members[2]

    def leave(data: dict[str, Any]) -> None:
        for user in data["users"]:
            if user["id"] == suspended["id"]:
                user["state"] = "SUSPENDED"
            if user["id"] == robot["id"]:
                user["state"] = "SUSPENDED"  # a service account: its token is rotated, it is not offboarded
            if user["id"] == recovering["id"]:
                user["state"] = "RECOVERY_STARTED"  # pending: may come back without anyone acting
        data["users"] = [u for u in data["users"] if u["id"] != removed["id"]]
        for group in data["groups"]:
            group["members"] = [m for m in group.get("members", []) if m["user_id"] != removed["id"]]

    _edit(fake_org, leave)
    _sync(account)
    cases = {c.email: c for c in OffboardingCase.objects.all()}
    assert sorted(cases) == sorted([suspended["email"], removed["email"]])
    assert robot["email"] not in cases and recovering["email"] not in cases
    assert OpUser.objects.get(op_id=robot["id"]).state == "SUSPENDED"
    for case in cases.values():
        assert case.reason == OffboardingCase.Reason.BECAME_INACTIVE and case.opened_by is None
        assert (case.due_date - case.leave_date).days == 7 and case.lookback_days == 90
    opened = AuditLogEntry.objects.filter(action="offboarding.case_opened")
    assert opened.count() == 2 and {e.actor_label for e in opened} == {"system (sync)"}

    _sync(account)  # the same state again: nothing new
    assert OffboardingCase.objects.count() == 2
