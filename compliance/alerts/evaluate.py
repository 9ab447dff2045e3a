"""Turn conditions into alerts: one alert per NEW condition of each enabled rule.

`evaluate_account(account=..., now=...)`, called after each findings run (by name, through
openclaw_web/dispatch.py) and by beat every few minutes for every account:
1. The enabled rules that cover the account; none: stop (one query).
2. Each needed source runs once (SOURCES below), whatever the number of rules of its kind.
3. Per rule, the conditions it matches (`matches`): kind, account, vault, threshold, "new".
4. A matched key without an open state opens one (raised) and queues one delivery per enabled
   channel. The partial unique constraint on (rule, key) while open makes two evaluations
   racing on one condition raise it once: the loser's insert fails and it sends nothing.
5. Open states still matched get `last_seen_at`; open states no longer matched are cleared, so
   the condition alerts again if it comes back. A health score clears only once it has recovered
   by HEALTH_RECOVERY_POINTS (hysteresis, `_holding`): 59, 60, 59, 60 around a threshold of 60 is
   one alert, not one every other sync.
6. Deliveries go out after commit (deliver.py); beat retries the ones that failed.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from compliance import audit
from compliance.alerts import deliver, payloads, sources
from compliance.alerts.conditions import (
    ANOMALY,
    BREAK_GLASS_USE,
    HEALTH_BELOW,
    NEW_HIGH_FINDING,
    OFFBOARDING_OVERDUE,
    REVIEW_OVERDUE,
    Condition,
)
from compliance.alerts.models import AlertRule, AlertState
from vaults.breakglass import alerts as breakglass_alerts
from vaults.models import Account
from vaults.offboarding import alerts as offboarding_alerts

logger = logging.getLogger(__name__)

Source = Callable[..., list[Condition]]  # (account, *, now, since) -> conditions


def _external(alert_conditions: Callable[[Account], list[Condition]]) -> Source:
    """Adapt an `alert_conditions(account)` source of another app to the registry's signature."""

    def source(account: Account, *, now: datetime.datetime, since: datetime.datetime | None = None) -> list[Condition]:
        return alert_conditions(account)

    return source


# The single registration list: one source per condition kind. Offboarding and break-glass
# sources live with their apps, each `alert_conditions(account) -> list[Condition]`.
SOURCES: dict[str, Source] = {
    HEALTH_BELOW: sources.health_conditions,
    NEW_HIGH_FINDING: sources.new_high_finding_conditions,
    ANOMALY: sources.anomaly_conditions,
    REVIEW_OVERDUE: sources.review_overdue_conditions,
    BREAK_GLASS_USE: _external(breakglass_alerts.alert_conditions),
    OFFBOARDING_OVERDUE: _external(offboarding_alerts.alert_conditions),
}

# Kinds whose conditions never clear on their own (an event happened): "new" means at or after
# the rule was created, read from this detail, so a new rule does not alert on the history.
_EVENT_TIME = {NEW_HIGH_FINDING: "first_seen", BREAK_GLASS_USE: "first_used_at"}


# A health_below state clears only when the score is at least threshold + this. A score moves
# by one point when a single weak or duplicate item is fixed or added, so a one-point recovery is
# noise around the threshold; two points is a real change. Below it the state stays open (and
# silent); a fall after a real recovery alerts again.
HEALTH_RECOVERY_POINTS = 2


def matches(rule: AlertRule, condition: Condition) -> bool:
    """Whether `rule` alerts on `condition` (both of one account already)."""
    if condition.kind != rule.kind:
        return False
    if rule.account_id is not None and condition.account_id != rule.account_id:
        return False
    if rule.kind == HEALTH_BELOW:
        # The organisation's score (no vault on the rule) or that vault's; never another vault's.
        if condition.vault_id != rule.vault_id:
            return False
        score = condition.details.get("score")
        return rule.threshold is not None and isinstance(score, int) and score < rule.threshold
    if rule.vault_id is not None and rule.vault_id not in (condition.vault_id, *condition.spanned_vault_ids):
        return False
    if rule.kind == NEW_HIGH_FINDING and condition.severity != "high":
        return False
    happened = condition.details.get(_EVENT_TIME.get(rule.kind, ""))
    return happened is None or datetime.datetime.fromisoformat(str(happened)) >= rule.created_at


def _holding(rule: AlertRule, conditions: list[Condition]) -> set[str]:
    """Keys of the rule's health conditions that no longer match but have not recovered by
    HEALTH_RECOVERY_POINTS: an open state on them stays open, and nothing new is raised."""
    if rule.kind != HEALTH_BELOW or rule.threshold is None:
        return set()
    recovered_at = rule.threshold + HEALTH_RECOVERY_POINTS
    return {
        c.key for c in conditions
        if c.vault_id == rule.vault_id and isinstance(c.details.get("score"), int)
        and rule.threshold <= c.details["score"] < recovered_at
    }  # fmt: skip


@dataclass
class EvaluationSummary:
    rules: int = 0
    raised: int = 0
    cleared: int = 0
    still_open: int = 0
    deliveries: list[int] = field(default_factory=list)


def rules_for(account: Account) -> list[AlertRule]:
    return list(
        AlertRule.objects.filter(Q(account=account) | Q(account__isnull=True), enabled=True)
        .prefetch_related("channels").order_by("pk")
    )


def evaluate_account(*, account: Account, now: datetime.datetime | None = None) -> EvaluationSummary:
    """See the module docstring for the steps."""
    now = now or timezone.now()
    summary = EvaluationSummary()
    rules = rules_for(account)
    summary.rules = len(rules)
    if not rules:
        return summary
    by_kind: dict[str, list[Condition]] = {}
    for kind in sorted({rule.kind for rule in rules}):
        since = min(rule.created_at for rule in rules if rule.kind == kind)
        try:
            by_kind[kind] = SOURCES[kind](account, now=now, since=since)
        except Exception:
            # One broken source must not silence the others; its open states stay open (not
            # cleared by a source that could not look), and the log says why.
            logger.exception("alert source %s failed for account %s", kind, account.pk)
            by_kind[kind] = []
            rules = [rule for rule in rules if rule.kind != kind]
    for rule in rules:
        matched = {c.key: c for c in by_kind[rule.kind] if matches(rule, c)}
        _reconcile(rule, account, matched, now=now, summary=summary, holding=_holding(rule, by_kind[rule.kind]))
    AlertRule.objects.filter(pk__in=[rule.pk for rule in rules]).update(last_evaluated_at=now)
    return summary


def _reconcile(rule: AlertRule, account: Account, matched: dict[str, Condition], *, now: datetime.datetime,
               summary: EvaluationSummary, holding: set[str]) -> None:  # fmt: skip
    open_states = AlertState.objects.filter(rule=rule, account=account, cleared_at__isnull=True)
    open_keys = set(open_states.values_list("key", flat=True))
    gone = open_keys - matched.keys() - holding
    if gone:
        summary.cleared += open_states.filter(key__in=sorted(gone)).update(cleared_at=now)
    present = open_keys & matched.keys()
    if present:
        summary.still_open += open_states.filter(key__in=sorted(present)).update(last_seen_at=now)
    channels = [channel for channel in rule.channels.all() if channel.enabled]
    for key in sorted(matched.keys() - open_keys):
        state = _raise(rule, account, matched[key], now=now)
        if state is None:
            continue  # another evaluation raised it first
        summary.raised += 1
        summary.deliveries.extend(deliver.queue_alert(state=state, channels=channels, now=now))


def _raise(rule: AlertRule, account: Account, condition: Condition, *, now: datetime.datetime) -> AlertState | None:
    try:
        with transaction.atomic():
            state = AlertState.objects.create(
                rule=rule, account=account, key=condition.key[:200], kind=condition.kind,
                title=" ".join(condition.title.split())[:500], url=condition.url[:500], severity=condition.severity,
                vault_id=condition.vault_id, details=payloads.safe_details(condition.details),
                raised_at=now, last_seen_at=now,
            )  # fmt: skip
    except IntegrityError:
        return None
    audit.record("alerts.raised", actor_label="alerts", target=state,
                 details={"rule": rule.pk, "kind": condition.kind, "key": state.key})  # fmt: skip
    return state


def evaluate_all(*, now: datetime.datetime | None = None, accounts: Iterable[Account] | None = None) -> EvaluationSummary:
    """Every account (beat). Accounts with no rule cost one query each."""
    total = EvaluationSummary()
    if not AlertRule.objects.filter(enabled=True).exists():
        return total
    for account in accounts if accounts is not None else Account.objects.order_by("pk"):
        one = evaluate_account(account=account, now=now)
        total.rules = max(total.rules, one.rules)
        total.raised += one.raised
        total.cleared += one.cleared
        total.still_open += one.still_open
        total.deliveries.extend(one.deliveries)
    return total
