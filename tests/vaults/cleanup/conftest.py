"""A small fake 1Password organisation, synced into the test database through the real fake
`op` subprocess, for cleanup tests that execute against it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from vaults.cleanup import approval, plans
from vaults.cleanup.models import CleanupPlan, ProposedAction
from vaults.fake_op import account as account_file
from vaults.fake_op.calllog import read_call_log
from vaults.fake_op.demo import generate_organisation
from vaults.findings.engine import compute_findings
from vaults.models import Account, SyncRun, Vault
from vaults.sync import run_sync, start_sync

REPO_ROOT = Path(__file__).resolve().parents[3]
PRIVILEGED_ENV = "OC_TEST_ADMIN_SESSION"


@dataclass
class FakeOrg:
    path: Path
    call_log: Path
    account: Account
    service_account_id: str

    def data(self) -> dict[str, Any]:
        return account_file.load(self.path)

    def item(self, op_id: str) -> dict[str, Any] | None:
        return account_file.find(self.data()["items"], op_id)

    def vault(self, op_id: str) -> dict[str, Any]:
        found = account_file.find(self.data()["vaults"], op_id)
        assert found is not None
        return found

    def write_calls(self, command: str | None = None) -> list[dict[str, Any]]:
        return [
            c
            for c in read_call_log(self.call_log)
            if c["command"] in WRITE_COMMANDS and (command is None or c["command"] == command)
        ]

    def sync(self, scope: str = SyncRun.Scope.FULL) -> SyncRun:
        run, _ = start_sync(account=self.account, scope=scope)
        run = run_sync(sync_run_id=run.pk)
        assert run.status == SyncRun.Status.SUCCEEDED, run.error
        return run


WRITE_COMMANDS = {
    "item edit",
    "item move",
    "item delete",
    "vault user revoke",
    "vault group revoke",
    "group user revoke",
}


@pytest.fixture
def fake_org(db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any, team_lead: User) -> FakeOrg:
    # "now" is the real clock: findings are computed against it (orphaned = unused for 180 days).
    data = generate_organisation(
        seed=3, vaults=8, items=40, users=12, groups=6, now=datetime.now(UTC).replace(microsecond=0)
    )
    path = tmp_path / "account.json"
    account_file.save(path, data)
    call_log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_OP_ACCOUNT", str(path))
    monkeypatch.setenv("FAKE_OP_CALL_LOG", str(call_log))
    monkeypatch.setenv("OP_SERVICE_ACCOUNT_TOKEN", data["tokens"][0]["token"])
    monkeypatch.setenv(PRIVILEGED_ENV, data["tokens"][3]["token"])
    for knob in ("FAKE_OP_FAIL_COMMAND", "FAKE_OP_FAIL_TIMES", "FAKE_OP_CONFLICT_TIMES", "FAKE_OP_FAIL_CALL"):
        monkeypatch.delenv(knob, raising=False)
    settings.OP_BIN = str(REPO_ROOT / "bin" / "fake-op")
    settings.OP_MAX_RETRIES = 3
    account = Account.objects.create(name="Acme", token_env="OP_SERVICE_ACCOUNT_TOKEN")
    org = FakeOrg(path=path, call_log=call_log, account=account, service_account_id=data["tokens"][0]["user_id"])
    org.sync()
    account.refresh_from_db()
    compute_findings(account=account)
    # Team leads propose only on vaults they own (vaults/cleanup/scope.py): the `team_lead` persona
    # owns this whole organisation; tests/vaults/cleanup/test_vault_scope.py hands vaults to others.
    Vault.objects.filter(account=account).update(owner=team_lead)
    return org


def draft_plan(
    *, account: Account, proposer: User, specs: list[plans.ActionSpec], title: str = "Test plan"
) -> CleanupPlan:
    return plans.create_plan(account=account, proposed_by=proposer, specs=specs, title=title)


def approved_plan(
    *, account: Account, proposer: User, approvers: list[User], specs: list[plans.ActionSpec]
) -> CleanupPlan:
    """Draft → submitted → approved by every approver given (risky actions need two)."""
    plan = draft_plan(account=account, proposer=proposer, specs=specs)
    plans.submit_plan(plan=plan, user=proposer)
    for person in approvers:
        for action in plan.actions.filter(status=ProposedAction.Status.PROPOSED):
            if not approval.refusal(action, person):
                approval.approve_action(action=action, approver=person)
    return plan
