"""The demo's alerting and ticket destination (compliance/alerts/demo.py, compliance/tickets/demo.py):
set up as an administrator would, through the same forms; the delivery log holds only what the
real evaluation raised and really delivered (to a real SMTP server here); nothing leaves the
machine; a second run adds nothing; "Create ticket" shows the refusal and makes up no ticket."""

from __future__ import annotations

import datetime
from email import message_from_bytes
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from compliance.alerts.demo import EMAIL_CHANNEL, WEBHOOK_CHANNEL, seed_demo_alerts
from compliance.alerts.models import AlertAttempt, AlertChannel, AlertDelivery, AlertRule, AlertState
from compliance.models import AuditLogEntry
from compliance.tickets.demo import seed_demo_destination
from compliance.tickets.models import TicketDestination, TicketLink
from tests.vaults import factories as f
from vaults.breakglass import record
from vaults.findings.models import Finding
from vaults.offboarding import cases
from vaults.offboarding.models import OffboardingCase

pytestmark = pytest.mark.django_db
RECIPIENTS = ("security@acme-demo.example",)


@pytest.fixture
def organisation():
    """Two alertable conditions (the payments vault at 73, a leaver five days past the SLA) beside
    decoys: the organisation at 82, a leaver still in time, a high finding and a break-glass use
    from before the rules existed."""
    account = f.make_account(name="Acme Demo")
    payments = f.make_vault(account=account, name="Payments Production", classification="production")
    f.make_snapshot(account=account, score=82)
    f.make_snapshot(account=account, vault=payments, score=73)
    today = timezone.now().date()
    late = f.make_op_user(account=account, name="Bjorn Late", email="bjorn@acme-demo.example")
    on_time = f.make_op_user(account=account, name="Alice OnTime", email="alice@acme-demo.example")
    cases.open_case(late, leave_date=today - datetime.timedelta(days=12), reason=OffboardingCase.Reason.MARKED_LEAVING)
    cases.open_case(
        on_time, leave_date=today - datetime.timedelta(days=1), reason=OffboardingCase.Reason.MARKED_LEAVING
    )
    old = f.make_finding(account=account, title="Weak production key")
    Finding.objects.filter(pk=old.pk).update(first_seen=timezone.now() - datetime.timedelta(days=3))
    emergency = f.make_vault(account=account, name="Break Glass Production", classification="emergency")
    root = f.make_item(vault=emergency, title="AWS Root Login")
    f.make_usage(account=account, user=late, item=root, when=timezone.now() - datetime.timedelta(days=2))
    assert len(record.record_uses(account=account)) == 1
    return account


def test_the_demo_alerts_are_the_real_evaluations_deliveries_and_go_nowhere_outside(organisation, admin_user, smtp,
                                                                                    django_capture_on_commit_callbacks):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):  # the demo's deliveries go out after commit
        summary = seed_demo_alerts(account=organisation, admin=admin_user, recipients=RECIPIENTS)

    email, webhook = AlertChannel.objects.get(name=EMAIL_CHANNEL), AlertChannel.objects.get(name=WEBHOOK_CHANNEL)
    assert (email.kind, email.recipients, email.enabled) == ("email", list(RECIPIENTS), True)
    assert webhook.kind == "webhook" and not webhook.enabled and urlsplit(webhook.url).hostname == "127.0.0.1"
    assert {r.kind for r in AlertRule.objects.all()} == {"health_below", "new_high_finding", "break_glass_use",
                                                         "offboarding_overdue"}  # fmt: skip
    assert AlertRule.objects.get(name="Organisation health below 70").threshold == 70
    # Raised: the payments vault and the late leaver; not the organisation (82), the leaver in
    # time, nor the finding that was there before the rule.
    raised = sorted(AlertState.objects.values_list("kind", "title"))
    assert summary.raised == 2 and [kind for kind, _ in raised] == ["health_below", "offboarding_overdue"]
    assert "Payments Production" in raised[0][1] and "Bjorn Late" in raised[1][1]
    # Every delivery-log row is one the evaluation queued and the sender attempted, e-mail only.
    deliveries = AlertDelivery.objects.all()
    assert sorted(deliveries.values_list("pk", flat=True)) == sorted(summary.deliveries)
    assert {(d.channel_id, d.status, d.attempts) for d in deliveries} == {(email.pk, "sent", 1)}
    assert AlertAttempt.objects.filter(outcome="sent").count() == 2 == AlertAttempt.objects.count()
    subjects = sorted(message_from_bytes(raw)["Subject"] for _, _, raw in smtp.messages)
    assert [recipients for _, recipients, _ in smtp.messages] == [list(RECIPIENTS)] * 2 and len(subjects) == 2
    created = AuditLogEntry.objects.filter(action__in=["alerts.channel_created", "alerts.rule_created"])
    assert created.count() == 2 + 5 and set(created.values_list("actor", flat=True)) == {admin_user.pk}


def test_a_second_demo_run_keeps_what_exists_and_raises_nothing_again(organisation, admin_user, smtp,
                                                                      django_capture_on_commit_callbacks):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        seed_demo_alerts(account=organisation, admin=admin_user, recipients=RECIPIENTS)
    rule = AlertRule.objects.get(name="Organisation health below 70")
    rule.threshold = 60  # a person changed it since
    rule.save()

    with django_capture_on_commit_callbacks(execute=True):
        again = seed_demo_alerts(account=organisation, admin=admin_user, recipients=RECIPIENTS)

    assert again.raised == 0 and again.deliveries == []
    assert AlertChannel.objects.count() == 2 and AlertRule.objects.count() == 5 and AlertDelivery.objects.count() == 2
    assert AlertRule.objects.get(pk=rule.pk).threshold == 60 and len(smtp.messages) == 2


def test_creating_a_ticket_at_the_demo_destination_shows_the_refusal_and_makes_up_nothing(organisation, admin_user,
                                                                                          client_for):  # fmt: skip
    destination = seed_demo_destination(admin=admin_user)
    assert seed_demo_destination(admin=admin_user) == destination and TicketDestination.objects.count() == 1
    assert destination.enabled and urlsplit(destination.url).hostname == "127.0.0.1" and destination.project == "SEC"
    finding = f.make_finding(account=organisation)
    client = client_for(admin_user)

    response = client.post(reverse("tickets:create_for_finding", args=[finding.pk]), {"destination": destination.pk},
                           follow=True)  # fmt: skip

    assert "No ticket was created" in response.content.decode()
    assert not TicketLink.objects.exists()
    failed = AuditLogEntry.objects.get(action="ticket.failed")
    assert failed.actor == admin_user and failed.details["destination"] == destination.name
    assert AuditLogEntry.objects.filter(action="ticket_destination.created", actor=admin_user).count() == 1
