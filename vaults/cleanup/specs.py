"""One action as proposed, before it is a `ProposedAction` row: what plans.py builds from findings
and scope.py checks against the proposer's vaults. Its own module so both can import it (scope.py
importing plans.py would close a circle: plans.py calls scope.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vaults.cleanup.models import ProposedAction
from vaults.findings.models import Finding
from vaults.models import Item, OpGroup, OpUser, Vault


@dataclass
class ActionSpec:
    kind: str
    vault: Vault | None  # None only for a membership removal (REMOVE_GROUP_MEMBER)
    item: Item | None = None
    op_user: OpUser | None = None
    op_group: OpGroup | None = None
    destination_vault: Vault | None = None
    params: dict[str, Any] = field(default_factory=dict)
    finding: Finding | None = None
    phase: int = ProposedAction.Phase.NONE
