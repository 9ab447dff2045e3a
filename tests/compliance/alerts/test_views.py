"""The /alerts/ page and its forms: who may change what, what the audit log records, "Send a
test" against a real receiver, hostile names escaped."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from compliance.alerts.models import AlertChannel, AlertDelivery, AlertRule
from compliance.models import AuditLogEntry
from tests.compliance.alerts.factories import make_channel, make_rule
from tests.vaults.factories import make_account, make_vault

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("ch")</script>\u202e'


def _audit(action: str) -> list[AuditLogEntry]:
    return list(AuditLogEntry.objects.filter(action=action))


def test_an_officer_adds_a_webhook_channel_naming_its_key_variable_never_the_key(client_for, compliance_officer):
    client = client_for(compliance_officer)
    response = client.post(reverse("alerts:channel_create"), {
        "name": "SIEM", "kind": "webhook", "url": "https://siem.example.com/in?token=abc123", "secret_env": "ALERT_SIEM_KEY",
        "enabled": "on",
    })  # fmt: skip
    assert response.status_code == 302
    channel = AlertChannel.objects.get()
    assert (channel.secret_env, channel.created_by) == ("ALERT_SIEM_KEY", compliance_officer)
    [entry] = _audit("alerts.channel_created")
    assert entry.actor == compliance_officer and entry.details["secret_env"] == "ALERT_SIEM_KEY"
    assert "abc123" not in json.dumps(entry.details) and "abc123" not in entry.target_label  # the URL's token stays out
    page = client.get(reverse("alerts:index")).content.decode()
    assert "siem.example.com" in page and "abc123" not in page


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"kind": "webhook", "url": "file:///etc/passwd", "secret_env": "ALERT_K"}, "Only http:// and https://"),
        ({"kind": "webhook", "url": "https://x.example.com/h"}, "always signed"),
        ({"kind": "webhook", "url": "https://x.example.com/h", "secret_env": "not a name"}, "starting ALERT_"),
        # Variables the app holds for itself are never a channel's key or address.
        ({"kind": "webhook", "url": "https://x.example.com/h", "secret_env": "SECRET_KEY"}, "starting ALERT_"),
        ({"kind": "webhook", "url": "https://x.example.com/h", "secret_env": "AUDIT_KEY"}, "starting ALERT_"),
        ({"kind": "slack", "url_env": "DATABASE_URL"}, "starting ALERT_"),
        ({"kind": "slack", "url_env": "OP_SERVICE_ACCOUNT_TOKEN"}, "starting ALERT_"),
        ({"kind": "webhook", "url": "https://x.example.com/h", "secret_env": "ALERT_"}, "starting ALERT_"),
        ({"kind": "slack"}, "Give the address"),
        ({"kind": "email", "recipients_text": "not-an-address"}, "valid email"),
    ],
)
def test_a_channel_form_refuses_what_could_not_be_sent_safely(client_for, admin_user, fields, error):
    response = client_for(admin_user).post(reverse("alerts:channel_create"), {"name": "X", **fields})
    assert response.status_code == 400 and error in response.content.decode()
    assert not AlertChannel.objects.exists()


def test_rules_are_created_disabled_and_deleted_with_an_audit_entry_each(client_for, admin_user):
    account = make_account()
    vault = make_vault(account=account, name="Payments")
    channel = make_channel()
    client = client_for(admin_user)
    client.post(reverse("alerts:rule_create"), {"name": "Payments health", "kind": "health_below", "threshold": 70,
                                                 "vault": vault.pk, "channels": [channel.pk], "enabled": "on"})  # fmt: skip
    rule = AlertRule.objects.get()
    assert (rule.threshold, rule.vault, rule.account, list(rule.channels.all())) == (70, vault, account, [channel])
    client.post(reverse("alerts:rule_edit", args=[rule.pk]), {"name": "Payments health", "kind": "health_below",
                                                              "threshold": 70, "vault": vault.pk, "channels": [channel.pk]})  # fmt: skip
    rule.refresh_from_db()
    assert not rule.enabled
    client.post(reverse("alerts:rule_delete", args=[rule.pk]))
    assert not AlertRule.objects.exists()
    assert [len(_audit(a)) for a in ("alerts.rule_created", "alerts.rule_changed", "alerts.rule_deleted")] == [1, 1, 1]
    assert _audit("alerts.rule_changed")[0].details == {"enabled": {"before": True, "after": False}}


def _channel_form(channel: AlertChannel, **changes: object) -> dict[str, object]:
    form = {"name": channel.name, "kind": channel.kind, "url": channel.url, "url_env": channel.url_env,
            "secret_env": channel.secret_env, "enabled": "on", **changes}  # fmt: skip
    return {k: v for k, v in form.items() if v is not None}


def test_a_channel_edit_logs_each_changed_field_before_and_after_without_the_addresss_token(client_for, admin_user):
    channel = make_channel(name="SIEM", url="https://siem.example.com/in?token=abc123", secret_env="ALERT_HOOK_KEY")
    client = client_for(admin_user)

    client.post(reverse("alerts:channel_edit", args=[channel.pk]), _channel_form(channel))  # decoy: nothing changed
    client.post(reverse("alerts:channel_edit", args=[channel.pk]),
                _channel_form(channel, url="https://siem.example.com/in?token=def456", secret_env="ALERT_SIEM_KEY_2"))  # fmt: skip

    [entry] = _audit("alerts.channel_changed")
    assert entry.details == {
        "url": {"before": "https://siem.example.com/…", "after": "https://siem.example.com/…"},
        "secret_env": {"before": "ALERT_HOOK_KEY", "after": "ALERT_SIEM_KEY_2"},
    }
    assert "abc123" not in json.dumps(entry.details) and "def456" not in json.dumps(entry.details)


def test_a_rule_edit_logs_each_changed_field_before_and_after(client_for, admin_user):
    first, second = make_channel(name="first"), make_channel(name="second")
    rule = make_rule(kind="health_below", threshold=70, channels=[first], name="Org health")
    form = {"name": "Org health", "kind": "health_below", "threshold": 60, "channels": [first.pk, second.pk], "enabled": "on"}

    client_for(admin_user).post(reverse("alerts:rule_edit", args=[rule.pk]), form)

    [entry] = _audit("alerts.rule_changed")
    assert entry.details == {"threshold": {"before": 70, "after": 60},
                             "channels": {"before": [first.pk], "after": [first.pk, second.pk]}}  # fmt: skip


def test_a_health_rule_needs_a_threshold(client_for, admin_user):
    response = client_for(admin_user).post(reverse("alerts:rule_create"), {"name": "H", "kind": "health_below"})
    assert response.status_code == 400 and not AlertRule.objects.exists()


def test_send_a_test_reaches_the_receiver_and_shows_in_the_delivery_log(client_for, admin_user, receiver,
                                                                        django_capture_on_commit_callbacks):  # fmt: skip
    channel = make_channel(url=receiver.url, name="Ops hook")
    client = client_for(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("alerts:channel_test", args=[channel.pk]))
    assert response.status_code == 302
    [got] = receiver.received
    assert got.signature_ok and json.loads(got.body)["event"] == "alert.test"
    delivery = AlertDelivery.objects.get()
    assert (delivery.is_test, delivery.status, delivery.requested_by) == (True, "sent", admin_user)
    assert len(_audit("alerts.channel_test_requested")) == 1 and len(_audit("alerts.test_sent")) == 1
    log = client.get(reverse("alerts:index"), headers={"HX-Request": "true"}).content.decode()
    assert f'id="delivery-{delivery.pk}"' in log and "Sent" in log and "<html" not in log


def test_an_auditor_reads_the_page_without_any_button_that_changes_it(client_for, auditor):
    make_rule(kind="anomaly", channels=[make_channel()])
    client = client_for(auditor)
    page = client.get(reverse("alerts:index")).content.decode()
    assert "anomaly rule" in page and "Send a test" not in page and "Add rule" not in page
    assert client.post(reverse("alerts:channel_create"), {"name": "x"}).status_code == 403


def test_hostile_names_are_escaped_on_the_page(client_for, admin_user):
    channel = make_channel(name=HOSTILE)
    make_rule(kind="anomaly", name=HOSTILE, channels=[channel])
    page = client_for(admin_user).get(reverse("alerts:index")).content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_the_page_costs_a_bounded_number_of_queries(client_for, admin_user, django_assert_max_num_queries):
    channels = [make_channel(name=f"c{n}") for n in range(5)]
    for n in range(8):
        make_rule(kind="anomaly", name=f"r{n}", channels=channels)
    client = client_for(admin_user)
    with django_assert_max_num_queries(20):
        assert client.get(reverse("alerts:index")).status_code == 200
