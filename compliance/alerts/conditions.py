"""The one shape every alert source returns.

Sources (health, findings, anomalies, reviews, offboarding, break-glass) each
expose ``alert_conditions(account) -> list[Condition]``; the evaluator turns
new ones into alerts.  This module imports no Django models so any app may
import it without creating an import circle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

HEALTH_BELOW = "health_below"
NEW_HIGH_FINDING = "new_high_finding"
ANOMALY = "anomaly"
BREAK_GLASS_USE = "break_glass_use"
REVIEW_OVERDUE = "review_overdue"
OFFBOARDING_OVERDUE = "offboarding_overdue"

KINDS: tuple[str, ...] = (
    HEALTH_BELOW,
    NEW_HIGH_FINDING,
    ANOMALY,
    BREAK_GLASS_USE,
    REVIEW_OVERDUE,
    OFFBOARDING_OVERDUE,
)


@dataclass(frozen=True)
class Condition:
    kind: str  # one of KINDS
    key: str  # stable identity of this condition, for de-duplication, e.g. "offboarding:42"
    account_id: int
    title: str  # one line, metadata only
    url: str  # path inside the app
    severity: str = "high"
    vault_id: int | None = None
    # A condition with no vault of its own (a finding across vaults or about a person's access)
    # is about these vaults: a rule scoped to one of them matches it (vaults/findings/vault_scope.py).
    spanned_vault_ids: tuple[int, ...] = ()
    # Metadata only (counts, names, dates), JSON-able: it is sent to outside systems.
    details: Mapping[str, Any] = field(default_factory=dict)
