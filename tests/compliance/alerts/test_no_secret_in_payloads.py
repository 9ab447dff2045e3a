"""No secret value and no fingerprint in any alert payload (DESIGN.md invariant 1).

A fake organisation with a canary in every secret is synced through the real fake `op`; the
findings run (its commit hook evaluates the rules, as in production) raises alerts of every
kind this organisation produces, which go to a real webhook receiver, a Slack-shaped receiver
and a real SMTP server. Every byte they received, and every alert row stored, is searched for
any 8-character piece of a canary and any 12-character piece of a stored fingerprint."""

from __future__ import annotations

import json

import pytest
from django.core import serializers

from compliance.alerts import deliver
from compliance.alerts.models import AlertAttempt, AlertChannel, AlertDelivery, AlertState
from compliance.models import AuditLogEntry
from tests.compliance.alerts.factories import make_channel, make_rule
from tests.security.canaries import CanaryScanner, planted_secrets
from tests.vaults.conftest import fake_org, org_sizes  # noqa: F401 — fixtures used below
from vaults import sync
from vaults.findings.engine import compute_findings
from vaults.models import Item, SecretField, SyncRun

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_alert_payloads_hold_no_canary_and_no_fingerprint(fake_org, receiver, smtp, django_capture_on_commit_callbacks):  # noqa: F811
    account = fake_org.add_account()
    started, _ = sync.start_sync(account=account)
    run = sync.run_sync(sync_run_id=started.pk)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    channels = [
        make_channel(url=receiver.url, name="hook"),
        make_channel(kind=AlertChannel.Kind.SLACK, url=receiver.url + "/slack", secret_env="", name="slack"),
        make_channel(kind=AlertChannel.Kind.EMAIL, name="mail"),
    ]
    for kind in ("new_high_finding", "anomaly", "review_overdue"):
        make_rule(kind=kind, channels=channels)
    make_rule(kind="health_below", threshold=101, channels=channels)  # the organisation's score, whatever it is

    with django_capture_on_commit_callbacks(execute=True):
        compute_findings(account=account, sync_run=run)  # its commit hook evaluates the rules and sends

    kinds = set(AlertState.objects.values_list("kind", flat=True))
    assert {"new_high_finding", "health_below"} <= kinds, kinds
    deliveries = AlertDelivery.objects.count()
    assert deliveries == 3 * AlertState.objects.count() and not AlertDelivery.objects.exclude(status="sent").exists()
    assert len(receiver.received) == 2 * AlertState.objects.count() and len(smtp.messages) == AlertState.objects.count()
    assert all(r.signature_ok for r in receiver.received if r.path == "/hook")

    fingerprints = [f for f in SecretField.objects.exclude(fingerprint=None).values_list("fingerprint", flat=True) if f]
    fingerprints += [f for f in Item.objects.exclude(username_fingerprint="").values_list("username_fingerprint", flat=True)]
    assert fingerprints, "the synced organisation stores no fingerprint to look for"
    scanner = CanaryScanner([*planted_secrets(fake_org.data), *fingerprints])
    assert scanner.find(fake_org.path.read_text()), "the scan finds nothing where every secret is planted"
    stored = serializers.serialize("json", [*AlertState.objects.all(), *AlertDelivery.objects.all(), *AlertAttempt.objects.all()])
    audit_rows = json.dumps(list(AuditLogEntry.objects.filter(action__startswith="alerts.").values()), default=str)
    scanner.assert_absent([
        *((f"webhook {r.path}", r.body) for r in receiver.received),
        *((f"mail to {rcpt}", raw) for _, rcpt, raw in smtp.messages),
        ("alert rows", stored), ("alert audit entries", audit_rows),
    ])  # fmt: skip
    # Retrying sends the same bytes: nothing is added from the database at send time.
    assert deliver.deliver_due() == 0
