"""Whether a vault access change seen in 1Password went through OpenClaw's approval gate (SOC 2
CC6.2): the "Through OpenClaw" column of the vault access changes table.

OpenClaw never grants access (its cleanup actions only remove or reduce it), so a change that adds
any permission was made in 1Password and its authorisation is not in OpenClaw's records. A removal
or reduction went through the gate when a revocation cleanup action, approved by someone other than
its proposer, finished (done, or a manual step verified by a sync) in the period and no later than
the sync that saw the change, for that user (or a group the user held the access through) on that
vault, or removed that user from a group they held the access through (on any vault the group
reached). A manual step marked done but not yet verified does not count: nothing confirmed it ran.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from vaults.cleanup.models import Approval, ProposedAction
from vaults.history import AccessChange
from vaults.models import Account

GRANTED = "not recorded (granted in 1Password)"
NOT_THROUGH = "not through OpenClaw"
GATE_STATUSES = (ProposedAction.Status.DONE, ProposedAction.Status.VERIFIED)

# (account pk, vault op id, "user" or "group", user op id or group name); a membership removal
# concerns every vault of its group: (account pk, ANY_VAULT, "member " + user op id, group name).
_Target = tuple[int, str, str, str]
ANY_VAULT = ""


@dataclass(frozen=True)
class Revocation:
    action_id: int
    finished: datetime.datetime
    approvers: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"yes: cleanup action #{self.action_id}, approved by {', '.join(self.approvers)}"


def revocations(accounts: Iterable[Account], start: datetime.datetime,
                end: datetime.datetime) -> dict[_Target, list[Revocation]]:
    """Revocations that finished in [start, end) with a second person's approval, by target (one query)."""
    actions = (ProposedAction.objects.filter(plan__account__in=list(accounts), status__in=GATE_STATUSES,
                                             kind__in=(ProposedAction.Kind.REVOKE_USER, ProposedAction.Kind.REVOKE_GROUP,
                                                       ProposedAction.Kind.REMOVE_GROUP_MEMBER))
               .select_related("plan", "vault", "op_user", "op_group").prefetch_related("approvals__approver"))
    found: dict[_Target, list[Revocation]] = defaultdict(list)
    for action in actions:
        finished = action.finished_at or action.manual_done_at
        if finished is None or not start <= finished < end:
            continue
        approvers = tuple(sorted({a.approver.get_username() for a in action.approvals.all()
                                  if a.decision == Approval.Decision.APPROVE and a.approver_id != action.plan.proposed_by_id}))
        if not approvers:
            continue  # the two-person rule makes this impossible; without a second person it is no gate
        vault = action.vault.op_id if action.vault is not None else ANY_VAULT
        if action.kind == ProposedAction.Kind.REVOKE_USER and action.op_user is not None:
            target: _Target = (action.plan.account_id, vault, "user", action.op_user.op_id)
        elif action.kind == ProposedAction.Kind.REVOKE_GROUP and action.op_group is not None:
            target = (action.plan.account_id, vault, "group", action.op_group.name)
        elif action.kind == ProposedAction.Kind.REMOVE_GROUP_MEMBER and action.op_user and action.op_group:
            target = (action.plan.account_id, ANY_VAULT, f"member {action.op_user.op_id}", action.op_group.name)
        else:
            continue
        found[target].append(Revocation(action.pk, finished, approvers))
    return found


def _targets(change: AccessChange) -> list[_Target]:
    account, vault = change.user.account_id, change.vault.op_id
    groups = [part.removeprefix("group ") for part in change.path.split(", ") if part.startswith("group ")]
    return [(account, vault, "user", change.user.op_id), *((account, vault, "group", g) for g in groups),
            *((account, ANY_VAULT, f"member {change.user.op_id}", g) for g in groups)]


def gate_label(change: AccessChange, found: dict[_Target, list[Revocation]]) -> str:
    if change.after - change.before:
        return GRANTED
    matches = [r for target in _targets(change) for r in found.get(target, []) if r.finished <= change.at]
    if not matches:
        return NOT_THROUGH
    return max(matches, key=lambda r: (r.finished, r.action_id)).label


def gate_labels(changes: Sequence[AccessChange], accounts: Iterable[Account], start: datetime.datetime,
                end: datetime.datetime) -> list[str]:
    """One label per change, in the same order."""
    found = revocations(accounts, start, end)
    return [gate_label(change, found) for change in changes]
