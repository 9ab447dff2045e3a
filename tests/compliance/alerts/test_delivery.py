"""Deliveries against real local receivers: a signed webhook the receiver verifies, the retry
schedule (500 then 200), a final 410, Slack-compatible bodies, e-mail over real SMTP, tests."""

from __future__ import annotations

import datetime
import email
import json
from email import policy

import pytest
from django.utils import timezone

from compliance.alerts import deliver, evaluate, http, payloads
from compliance.alerts.models import AlertAttempt, AlertChannel, AlertDelivery, AlertState
from compliance.models import AuditLogEntry
from tests.compliance.alerts.factories import make_channel, make_rule
from tests.compliance.alerts.receivers import SIGNING_KEY, verify
from tests.vaults.factories import make_account, make_snapshot, make_vault

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert(1)</script> =HYPERLINK("http://evil") \u202egnp.exe <https://evil|click>'


def _raise_one(channel: AlertChannel, *, vault_name: str = "Payments", now=None) -> AlertDelivery:
    account = make_account(name="Acme")
    vault = make_vault(account=account, name=vault_name)
    make_snapshot(account=account, vault=vault, score=41, when=now)
    make_rule(kind="health_below", threshold=70, vault=vault, channels=[channel])
    summary = evaluate.evaluate_account(account=account, now=now)
    [delivery_id] = summary.deliveries
    return AlertDelivery.objects.get(pk=delivery_id)


def test_a_webhook_body_is_signed_and_the_receiver_verifies_it(receiver, settings):
    settings.SITE_URL = "https://openclaw.example.com"
    delivery = _raise_one(make_channel(url=receiver.url))

    assert deliver.attempt(delivery.pk) == "sent"

    [got] = receiver.received
    assert got.signature_ok
    body = json.loads(got.body)
    assert set(body) == {"event", "id", "kind", "title", "severity", "account", "url", "details", "raised_at"}
    assert body["event"] == "alert.raised" and body["kind"] == "health_below" and body["account"] == "Acme"
    assert body["url"].startswith("https://openclaw.example.com/vaults/")
    assert body["details"]["score"] == 41
    assert got.headers["x-openclaw-delivery"] == str(delivery.pk)
    delivery.refresh_from_db()
    import hashlib

    assert delivery.payload_digest == hashlib.sha256(got.body).hexdigest()
    # A body changed on the way no longer verifies; nor does the right body under another key.
    tampered = got.body.replace(b'"score":41', b'"score":99')
    assert tampered != got.body and not verify(SIGNING_KEY, got.headers, tampered)
    assert not verify("another-key", got.headers, got.body)


def test_hostile_titles_reach_the_webhook_as_json_escapes(receiver):
    delivery = _raise_one(make_channel(url=receiver.url), vault_name=HOSTILE)
    deliver.attempt(delivery.pk)
    raw = receiver.received[0].body
    assert b"<script>" not in raw and b"\xe2\x80\xae" not in raw  # no live markup, no raw RLO character
    assert b"<" not in raw and b">" not in raw and b"\\u003cscript\\u003e" in raw
    assert b"\\u202e" in raw
    assert HOSTILE in json.loads(raw)["title"]  # escaped, not altered


def test_a_failed_delivery_is_retried_on_the_schedule_and_then_sent(receiver):
    receiver.script(500, 503, 200)
    start = timezone.now()
    delivery = _raise_one(make_channel(url=receiver.url), now=start)

    assert deliver.attempt(delivery.pk, now=start) == "pending"
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == start + datetime.timedelta(minutes=1)
    assert deliver.deliver_due(now=start + datetime.timedelta(seconds=59)) == 0  # not yet due
    assert deliver.deliver_due(now=start + datetime.timedelta(minutes=1)) == 1
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.next_attempt_at == start + datetime.timedelta(minutes=6)
    assert deliver.deliver_due(now=start + datetime.timedelta(minutes=6)) == 1

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("sent", 3, 200)
    outcomes = list(AlertAttempt.objects.filter(delivery=delivery).values_list("outcome", "status_code"))
    assert outcomes == [("retry", 500), ("retry", 503), ("sent", 200)]
    # Every attempt carried the same body, each freshly signed.
    assert len({r.body for r in receiver.received}) == 1 and all(r.signature_ok for r in receiver.received)
    assert AuditLogEntry.objects.filter(action="alerts.delivery_sent").count() == 1


def test_the_backoff_gives_up_after_the_last_attempt(receiver):
    receiver.script(500)
    start = timezone.now()
    delivery = _raise_one(make_channel(url=receiver.url), now=start)
    moment = start
    for delay in [datetime.timedelta(0), *deliver.RETRY_DELAYS]:
        moment += delay
        deliver.attempt(delivery.pk, now=moment)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", deliver.MAX_ATTEMPTS, None)
    assert [d.total_seconds() / 60 for d in deliver.RETRY_DELAYS] == [1, 5, 30, 120]
    assert deliver.attempt(delivery.pk, now=moment + datetime.timedelta(days=1)) is None  # nothing left to claim


def test_410_gone_is_final_but_429_is_retried(receiver):
    receiver.script(410)
    gone = _raise_one(make_channel(url=receiver.url))
    assert deliver.attempt(gone.pk) == "failed"
    assert AuditLogEntry.objects.filter(action="alerts.delivery_failed").count() == 1

    receiver.script(429)
    state = AlertState.objects.get()
    busy = AlertDelivery.objects.create(state=state, channel=gone.channel, created_at=timezone.now(),
                                        next_attempt_at=timezone.now())  # fmt: skip
    assert deliver.attempt(busy.pk) == "pending"


def test_redirects_are_not_followed(receiver):
    receiver.script(302)
    receiver.extra_headers[302] = {"Location": "http://169.254.169.254/latest/meta-data/"}
    delivery = _raise_one(make_channel(url=receiver.url))
    assert deliver.attempt(delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert "redirect" in delivery.last_error and len(receiver.received) == 1


def test_only_http_and_https_addresses_are_posted_to():
    for url in ("file:///etc/passwd", "ftp://example.com/x", "gopher://x", "http://user:pw@example.com/hook", "http:///nohost"):
        outcome = http.post(url, b"{}", headers={})
        assert outcome.status_code is None and outcome.error.startswith("unsafe address") and not outcome.retryable, url


@pytest.mark.parametrize("field", ["secret_env", "url_env"])
def test_a_stored_channel_naming_a_variable_outside_alert_is_refused_when_sending(receiver, monkeypatch, field):
    # A row written before the rule, or in the database: the worker still never reads SECRET_KEY.
    monkeypatch.setenv("SECRET_KEY", receiver.url if field == "url_env" else "the-apps-own-key")
    channel = make_channel(url="" if field == "url_env" else receiver.url, **{field: "SECRET_KEY"})
    delivery = _raise_one(channel)

    assert deliver.attempt(delivery.pk) == "pending"

    delivery.refresh_from_db()
    assert "SECRET_KEY is refused" in delivery.last_error and receiver.received == []


def test_a_webhook_without_its_key_in_the_environment_is_never_sent_unsigned(receiver, monkeypatch):
    monkeypatch.delenv("ALERT_HOOK_KEY")
    delivery = _raise_one(make_channel(url=receiver.url))
    assert deliver.attempt(delivery.pk) == "pending"
    delivery.refresh_from_db()
    assert "ALERT_HOOK_KEY" in delivery.last_error and receiver.received == []


def test_a_slack_channel_gets_text_and_blocks_with_slack_escaping(receiver):
    delivery = _raise_one(make_channel(kind=AlertChannel.Kind.SLACK, url=receiver.url, secret_env=""), vault_name=HOSTILE)
    assert deliver.attempt(delivery.pk) == "sent"
    body = json.loads(receiver.received[0].body)
    assert body["text"].startswith("OpenClaw alert (high)")
    assert "&lt;script&gt;" in body["text"] and "<script>" not in body["text"]
    assert "<https://evil|click>" not in json.dumps(body)  # no injected Slack link
    assert body["blocks"][0]["type"] == "section"
    assert "x-openclaw-signature" not in receiver.received[0].headers


def test_a_slack_address_can_come_from_the_environment(receiver, monkeypatch):
    monkeypatch.setenv("ALERT_SLACK_URL", receiver.url)
    channel = make_channel(kind=AlertChannel.Kind.SLACK, url="", url_env="ALERT_SLACK_URL", secret_env="")
    assert channel.target_label == "address from $ALERT_SLACK_URL"
    delivery = _raise_one(channel)
    assert deliver.attempt(delivery.pk) == "sent" and len(receiver.received) == 1


def test_an_email_channel_sends_plain_text_over_smtp(smtp):
    delivery = _raise_one(make_channel(kind=AlertChannel.Kind.EMAIL, recipients=["sec@example.com", "ops@example.com"]),
                          vault_name=HOSTILE)  # fmt: skip
    assert deliver.attempt(delivery.pk) == "sent"
    [(_sender, recipients, raw)] = smtp.messages
    assert sorted(recipients) == ["ops@example.com", "sec@example.com"]
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message.get_content_type() == "text/plain"
    assert str(message["Subject"]).strip().startswith("[OpenClaw alert] Acme: vault")
    text = message.get_content()
    assert "<script>alert(1)</script>" in text  # plain text: shown as typed, nothing renders it
    assert "\u202e" not in text and "\u202e" not in message["Subject"]  # bidi control removed
    assert "no secret values" in text


def test_an_unreachable_smtp_server_is_retried(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    delivery = _raise_one(make_channel(kind=AlertChannel.Kind.EMAIL))
    assert deliver.attempt(delivery.pk) == "pending"


def test_send_a_test_posts_a_clearly_marked_test_once(receiver, admin_user, django_capture_on_commit_callbacks):
    receiver.script(500)
    channel = make_channel(url=receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = deliver.send_test(channel=channel, requested_by=admin_user)
    delivery.refresh_from_db()
    body = json.loads(receiver.received[0].body)
    assert body["event"] == "alert.test" and body["title"].startswith("Test alert") and receiver.received[0].signature_ok
    assert (delivery.status, delivery.attempts) == ("failed", 1)  # a test is tried once, its result shown at once
    assert AuditLogEntry.objects.filter(action="alerts.test_failed").count() == 1


def test_a_duplicate_task_for_one_delivery_sends_once(receiver):
    delivery = _raise_one(make_channel(url=receiver.url))
    assert deliver.attempt(delivery.pk) == "sent"
    assert deliver.attempt(delivery.pk) is None
    assert len(receiver.received) == 1


def test_a_delivery_claimed_by_a_dead_worker_is_released(receiver):
    start = timezone.now()
    delivery = _raise_one(make_channel(url=receiver.url), now=start)
    AlertDelivery.objects.filter(pk=delivery.pk).update(status="sending", claimed_at=start)
    assert deliver.deliver_due(now=start + datetime.timedelta(minutes=5)) == 0
    assert deliver.deliver_due(now=start + deliver.CLAIM_TIMEOUT + datetime.timedelta(seconds=1)) == 1
    delivery.refresh_from_db()
    assert delivery.status == "sent"


def test_unsafe_detail_keys_never_reach_a_payload():
    kept = payloads.safe_details({"score": 3, "fingerprint": "ab12", "secret_value": "x", "notes": "n", "vault": "V"})
    assert kept == {"score": 3, "vault": "V"}
