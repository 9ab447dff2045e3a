"""The demo's alerting, as an administrator would set it up on the Alerts page: an e-mail channel to
the security team, a signed webhook to a SIEM that the demo does not run (so it is left disabled),
and rules for the organisation's health, new high-severity findings, break-glass use and leavers
past their SLA. Then the real evaluation runs once: the alerts raised and the delivery log are
what the product did with the seeded organisation, not rows written for show.

Idempotent: a channel or rule that exists by name is left as it is (a re-run of `make demo` keeps
what a person changed), and the evaluation raises nothing already raised.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from compliance import audit
from compliance.alerts.evaluate import EvaluationSummary, evaluate_account
from compliance.alerts.forms import ChannelForm, RuleForm
from compliance.alerts.models import AlertChannel, AlertRule
from vaults.models import Account, Vault

EMAIL_CHANNEL = "Security team e-mail"
WEBHOOK_CHANNEL = "SIEM webhook"
# Port 9 (discard) on loopback: nothing answers there, and nothing leaves the machine if it is enabled.
WEBHOOK_URL = "http://127.0.0.1:9/openclaw-alerts"
# The organisation's score a security lead would not let pass unnoticed: below "fair" (70).
HEALTH_THRESHOLD = 70
PAYMENTS_THRESHOLD = 75  # the production vault the demo's story revolves around is held to more


def _channel(name: str, data: dict[str, Any], admin: User) -> AlertChannel:
    existing = AlertChannel.objects.filter(name=name).first()
    if existing is not None:
        return existing
    form = ChannelForm({"name": name, **data})
    if not form.is_valid():  # the demo's own data: a failure here is a bug, said loudly
        raise ValueError(f"demo channel {name!r}: {form.errors.as_json()}")
    channel = form.save(commit=False)
    channel.created_by = admin
    channel.save()
    audit.record("alerts.channel_created", actor=admin, target=channel,
                 details={"name": channel.name, "kind": channel.kind, "target": channel.target_label,
                          "enabled": channel.enabled, "via": "demo"})  # fmt: skip
    return channel


def _rule(name: str, data: dict[str, Any], channels: list[AlertChannel], admin: User) -> AlertRule:
    existing = AlertRule.objects.filter(name=name).first()
    if existing is not None:
        return existing
    form = RuleForm({"name": name, "enabled": "on", "channels": [c.pk for c in channels], **data})
    if not form.is_valid():
        raise ValueError(f"demo rule {name!r}: {form.errors.as_json()}")
    rule = form.save(commit=False)
    rule.created_by, rule.created_at = admin, timezone.now()
    rule.save()
    form.save_m2m()
    audit.record("alerts.rule_created", actor=admin, target=rule,
                 details={"name": rule.name, "kind": rule.kind, "threshold": rule.threshold, "vault": rule.vault_id,
                          "channels": sorted(c.pk for c in channels), "enabled": rule.enabled, "via": "demo"})  # fmt: skip
    return rule


def seed_demo_alerts(*, account: Account, admin: User, recipients: tuple[str, ...]) -> EvaluationSummary:
    """Channels and rules (steps above), then one evaluation of `account`; returns its summary."""
    with transaction.atomic():
        email = _channel(EMAIL_CHANNEL, {"kind": AlertChannel.Kind.EMAIL, "recipients_text": ", ".join(recipients),
                                         "enabled": "on"}, admin)  # fmt: skip
        webhook = _channel(WEBHOOK_CHANNEL, {"kind": AlertChannel.Kind.WEBHOOK, "url": WEBHOOK_URL,
                                             "secret_env": "ALERT_SIEM_SIGNING_KEY"}, admin)  # fmt: skip
        channels = [email, webhook]
        _rule("Organisation health below 70", {"kind": AlertRule.Kind.HEALTH_BELOW, "threshold": HEALTH_THRESHOLD,
                                               "account": account.pk}, channels, admin)  # fmt: skip
        payments = Vault.objects.filter(account=account, name="Payments Production", removed_at__isnull=True).first()
        if payments is not None:
            _rule("Payments Production health below 75", {"kind": AlertRule.Kind.HEALTH_BELOW, "vault": payments.pk,
                                                          "threshold": PAYMENTS_THRESHOLD}, channels, admin)  # fmt: skip
        _rule("New high-severity finding", {"kind": AlertRule.Kind.NEW_HIGH_FINDING}, channels, admin)
        _rule("Break-glass use", {"kind": AlertRule.Kind.BREAK_GLASS_USE}, channels, admin)
        _rule("Leaver past the offboarding SLA", {"kind": AlertRule.Kind.OFFBOARDING_OVERDUE}, channels, admin)
    # Outside the transaction: the deliveries go out after commit, as after any findings run.
    return evaluate_account(account=account)
