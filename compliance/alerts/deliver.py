"""Sending alerts to channels, retrying with backoff, and the delivery log.

1. `queue_alert` writes one pending AlertDelivery per channel and sends each after commit (by
   name, through openclaw_web/dispatch.py: the task is a thin wrapper over `attempt`).
2. `attempt(delivery_id)` claims the row (a conditional update: a duplicate task finds nothing
   to claim), sends once, writes an AlertAttempt, then: sent; or pending again at
   now + RETRY_DELAYS[attempts - 1]; or failed for good (a 4xx other than 408/425/429, a
   redirect, an unsafe address, or MAX_ATTEMPTS reached).
3. `deliver_due` (beat, every minute) attempts every pending delivery whose time has come, and
   releases rows claimed by a worker that died (SENDING for longer than CLAIM_TIMEOUT).
4. `send_test` queues a clearly marked test payload to one channel: one attempt, no retries.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import smtplib
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone

from compliance import audit
from compliance.alerts import http, payloads
from compliance.alerts.models import AlertAttempt, AlertChannel, AlertDelivery, AlertState
from openclaw_web import dispatch
from openclaw_web.env_names import ALERT_ENV
from openclaw_web.site_url import absolute_url

logger = logging.getLogger(__name__)

DELIVER_TASK = "compliance.alerts.tasks.deliver_alert_task"
# After the 1st, 2nd, 3rd, 4th failed attempt; the 5th failure is final. About 2.5 hours in all:
# long enough to ride out a receiver's deploy or a short outage, short enough that an alert that
# finally arrives is still worth reading.
RETRY_DELAYS = (
    datetime.timedelta(minutes=1),
    datetime.timedelta(minutes=5),
    datetime.timedelta(minutes=30),
    datetime.timedelta(minutes=120),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# A SENDING row older than this belongs to a worker that died: http.TOTAL_TIMEOUT is 5 s.
CLAIM_TIMEOUT = datetime.timedelta(minutes=10)

Status = AlertDelivery.Status


def queue_alert(*, state: AlertState, channels: Iterable[AlertChannel], now: datetime.datetime) -> list[int]:
    ids = []
    for channel in channels:
        delivery = AlertDelivery.objects.create(state=state, channel=channel, created_at=now, next_attempt_at=now)
        dispatch.after_commit(DELIVER_TASK, delivery.pk)
        ids.append(delivery.pk)
    return ids


def send_test(*, channel: AlertChannel, requested_by: User | None, now: datetime.datetime | None = None) -> AlertDelivery:
    now = now or timezone.now()
    delivery = AlertDelivery.objects.create(channel=channel, is_test=True, created_at=now, next_attempt_at=now,
                                            requested_by=requested_by)  # fmt: skip
    dispatch.after_commit(DELIVER_TASK, delivery.pk)
    return delivery


def alert_for(delivery: AlertDelivery) -> payloads.Alert:
    """What the delivery sends, the same bytes at every attempt."""
    state = delivery.state
    if delivery.is_test or state is None:
        return payloads.Alert(
            id=f"test-{delivery.pk}", event="alert.test", kind="test",
            title=f"Test alert from OpenClaw to channel “{delivery.channel.name}” (no action needed)",
            severity="low", account="(test)", url=absolute_url(reverse("alerts:index")),
            raised_at=delivery.created_at.isoformat(), details={"test": True},
        )  # fmt: skip
    return payloads.Alert(
        id=str(state.pk), event="alert.raised", kind=state.kind, title=state.title, severity=state.severity,
        account=state.account.name, url=absolute_url(state.url), raised_at=state.raised_at.isoformat(),
        details=state.details,
    )  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    ok: bool
    retryable: bool
    status_code: int | None
    error: str
    duration_ms: int
    digest: str


def _send(delivery: AlertDelivery) -> Outcome:
    channel = delivery.channel
    alert = alert_for(delivery)
    if channel.kind == AlertChannel.Kind.EMAIL:
        subject, text = payloads.email_message(alert)
        digest = hashlib.sha256(f"{subject}\n{text}".encode()).hexdigest()
        started = time.monotonic()
        try:
            send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, list(channel.recipients), fail_silently=False)
        except (smtplib.SMTPException, OSError) as error:
            # Refused recipients will not be accepted by waiting; anything else (connection, 4xx) may.
            final = isinstance(error, smtplib.SMTPRecipientsRefused)
            return Outcome(False, not final, None, f"{type(error).__name__}: {error}"[:300], _ms(started), digest)
        return Outcome(True, False, None, "", _ms(started), digest)
    body = payloads.slack_body(alert) if channel.kind == AlertChannel.Kind.SLACK else payloads.webhook_body(alert)
    digest = hashlib.sha256(body).hexdigest()
    url = channel.resolved_url()
    if not url:
        return Outcome(False, True, None, f"no address: {_unusable(channel.url_env)}", 0, digest)
    headers = {"Content-Type": "application/json", payloads.DELIVERY_HEADER: str(delivery.pk)}
    if channel.kind == AlertChannel.Kind.WEBHOOK:
        key = ALERT_ENV.value(channel.secret_env)
        if not key:
            # Never send unsigned: a receiver that checks would drop it, one that does not should not get it.
            return Outcome(False, True, None, f"no signing key: {_unusable(channel.secret_env)}", 0, digest)
        timestamp = str(int(time.time()))
        headers[payloads.TIMESTAMP_HEADER] = timestamp
        headers[payloads.SIGNATURE_HEADER] = payloads.signature(key.encode(), timestamp, body)
    result = http.post(url, body, headers=headers)
    return Outcome(result.ok, result.retryable, result.status_code, result.error, result.duration_ms, digest)


def _unusable(name: str) -> str:
    if name and not ALERT_ENV.allows(name):
        return f"environment variable {name} is refused (only {ALERT_ENV.prefix}… variables may be used)"
    return f"environment variable {name or '(none)'} is not set"


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def attempt(delivery_id: int, *, now: datetime.datetime | None = None) -> str | None:
    """One attempt of a due delivery; returns its new status, or None when there was nothing to
    claim (sent, failed, not yet due, or another worker has it)."""
    now = now or timezone.now()
    claimed = AlertDelivery.objects.filter(pk=delivery_id, status=Status.PENDING, next_attempt_at__lte=now).update(
        status=Status.SENDING, claimed_at=now
    )
    if not claimed:
        return None
    delivery = AlertDelivery.objects.select_related("channel", "state__account").get(pk=delivery_id)
    outcome = _send(delivery)
    attempts = delivery.attempts + 1
    max_attempts = 1 if delivery.is_test else MAX_ATTEMPTS
    if outcome.ok:
        status, step = Status.SENT, "sent"
    elif outcome.retryable and attempts < max_attempts:
        status, step = Status.PENDING, "retry"
    else:
        status, step = Status.FAILED, "failed"
    AlertAttempt.objects.create(delivery=delivery, attempted_at=now, status_code=outcome.status_code,
                                error=outcome.error[:500], outcome=step, duration_ms=outcome.duration_ms)  # fmt: skip
    AlertDelivery.objects.filter(pk=delivery.pk).update(
        status=status, attempts=attempts, payload_digest=outcome.digest, last_status_code=outcome.status_code,
        last_error=outcome.error[:500], claimed_at=None,
        sent_at=now if outcome.ok else None,
        next_attempt_at=now + RETRY_DELAYS[attempts - 1] if step == "retry" else None,
    )  # fmt: skip
    if step != "retry":
        audit.record(
            "alerts.test_" + step if delivery.is_test else "alerts.delivery_" + step,
            actor_label="alerts", target=delivery.channel,
            details={"delivery": delivery.pk, "state": delivery.state_id, "attempts": attempts,
                     "status_code": outcome.status_code, "error": outcome.error[:200], "digest": outcome.digest},
        )  # fmt: skip
    return status


def deliver_due(*, now: datetime.datetime | None = None) -> int:
    """Attempt every due pending delivery (beat); returns how many were attempted."""
    now = now or timezone.now()
    AlertDelivery.objects.filter(status=Status.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT).update(
        status=Status.PENDING, claimed_at=None, next_attempt_at=now
    )
    due = AlertDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now).order_by("next_attempt_at", "pk")
    done = 0
    for delivery_id in list(due.values_list("pk", flat=True)[:500]):
        if attempt(delivery_id, now=now) is not None:
            done += 1
    return done
