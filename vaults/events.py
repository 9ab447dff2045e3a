"""The 1Password Events API: item usages, sign-in attempts and audit events since a cursor.

The feed carries no secret values. Each feed keeps its own cursor on the Account, so every sync
reads only what is new; the first read starts `history_days()` back (settings.EVENTS_HISTORY_DAYS).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from vaults.models import Account, AuditEvent, Item, ItemUsage, SignInAttempt
from vaults.usage_retention import summarise_old_usage

logger = logging.getLogger(__name__)

# Fallback when settings do not say: a SOC 2 Type II period (12 months) and a quarter of lead-in.
EVENTS_HISTORY_DAYS = 400
PAGE_LIMIT = 1000  # the Events API's maximum page size
MAX_PAGES_PER_FEED = 500  # a bound on one run; the cursor resumes the rest next time


class EventsApiError(Exception):
    """The Events API could not be read; the message says what to do."""


@dataclass(frozen=True)
class EventsSummary:
    item_usages: int
    signin_attempts: int
    audit_events: int


COUNTRY_MAX_LENGTH = 100  # the API prints codes ("CA") and full names ("United Kingdom of ...")


def history_days() -> int:
    """How many days back the first read of a feed starts."""
    return int(getattr(settings, "EVENTS_HISTORY_DAYS", EVENTS_HISTORY_DAYS))


def _when(raw: Any) -> datetime:
    """An aware datetime: the Events API speaks UTC, and older events print no offset
    ("2021-08-11T14:28:03"), which Django would store with a naive-datetime RuntimeWarning."""
    parsed = parse_datetime(str(raw or ""))
    if parsed is None:
        raise EventsApiError(f"an event has an unreadable timestamp ({str(raw)[:40]!r})")
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)


def _optional_when(raw: Any) -> datetime | None:
    """Like `_when` for a secondary timestamp (`session.login_time`): unreadable → None, so one
    odd field never stops a page of events from being stored."""
    parsed = parse_datetime(str(raw)) if isinstance(raw, str) and raw else None
    if parsed is None:
        return None
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)


def _text(value: Any, limit: int) -> str:
    return str(value or "")[:limit]


def _object(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key)
    return value if isinstance(value, dict) else {}


def _country(raw: dict[str, Any]) -> str:
    """`location.country` (v2), else the top-level `country` the older shape printed, whole."""
    return _text(_object(raw, "location").get("country") or raw.get("country"), COUNTRY_MAX_LENGTH)


def _item_usage(account: Account, raw: dict[str, Any]) -> ItemUsage:
    user = raw.get("user") or {}
    client = raw.get("client") or {}
    return ItemUsage(
        account=account,
        uuid=_text(raw.get("uuid"), 64),
        timestamp=_when(raw.get("timestamp")),
        user_op_id=_text(user.get("uuid"), 64),
        user_email=_text(user.get("email"), 500),
        user_name=_text(user.get("name"), 500),
        item_op_id=_text(raw.get("item_uuid"), 64),
        vault_op_id=_text(raw.get("vault_uuid"), 64),
        action=_text(raw.get("action"), 60),
        client_ip=_text(client.get("ip_address"), 64),
        client_app=_text(client.get("app_name"), 200),
        country=_country(raw),
    )


def _signin_attempt(account: Account, raw: dict[str, Any]) -> SignInAttempt:
    user = raw.get("target_user") or {}
    return SignInAttempt(
        account=account,
        uuid=_text(raw.get("uuid"), 64),
        timestamp=_when(raw.get("timestamp")),
        category=_text(raw.get("category"), 60),
        attempt_type=_text(raw.get("type"), 60),
        user_op_id=_text(user.get("uuid"), 64),
        user_email=_text(user.get("email"), 500),
        user_name=_text(user.get("name"), 500),
        client_ip=_text((raw.get("client") or {}).get("ip_address"), 64),
        country=_country(raw),
    )


def _audit_event(account: Account, raw: dict[str, Any]) -> AuditEvent:
    actor, target, session = _object(raw, "actor_details"), _object(raw, "object_details"), _object(raw, "session")
    return AuditEvent(
        account=account,
        uuid=_text(raw.get("uuid"), 64),
        timestamp=_when(raw.get("timestamp")),
        actor_op_id=_text(raw.get("actor_uuid"), 64),
        actor_name=_text(actor.get("name"), 500),
        actor_email=_text(actor.get("email"), 500),
        action=_text(raw.get("action"), 100),
        object_type=_text(raw.get("object_type"), 60),
        object_op_id=_text(raw.get("object_uuid"), 64),
        object_name=_text(target.get("name"), 500),
        object_email=_text(target.get("email"), 500),
        aux_info=_text(raw.get("aux_info"), 2000),
        client_ip=_text(session.get("ip"), 64),
        session_login_time=_optional_when(session.get("login_time")),
    )


FEEDS: dict[str, tuple[type[Any], Callable[[Account, dict[str, Any]], Any]]] = {
    "itemusages": (ItemUsage, _item_usage),
    "signinattempts": (SignInAttempt, _signin_attempt),
    "auditevents": (AuditEvent, _audit_event),
}


def _pages(client: httpx.Client, feed: str, cursor: str | None, start: datetime) -> Iterator[tuple[list[dict[str, Any]], str]]:
    body: dict[str, Any] = {"cursor": cursor} if cursor else {"limit": PAGE_LIMIT, "start_time": start.isoformat()}
    for _ in range(MAX_PAGES_PER_FEED):
        try:
            response = client.post(f"/api/v2/{feed}", json=body)
        except httpx.HTTPError as exc:
            raise EventsApiError(f"Events API unreachable ({type(exc).__name__}); check EVENTS_API_URL and the network") from exc
        if response.status_code in (401, 403):
            raise EventsApiError("Events API refused the token: create a new Events Reporting token and update its environment variable")
        if response.status_code == 429:
            raise EventsApiError("Events API rate limit reached: the next sync resumes from the stored cursor")
        if response.status_code != 200:
            raise EventsApiError(f"Events API answered HTTP {response.status_code} for {feed}")
        try:
            payload = response.json()
            items, next_cursor, has_more = payload["items"] or [], str(payload["cursor"]), bool(payload["has_more"])
        except (ValueError, KeyError, TypeError) as exc:
            raise EventsApiError(f"Events API returned an unreadable {feed} page") from exc
        yield items, next_cursor
        if not has_more:
            return
        body = {"cursor": next_cursor}


def sync_events(*, account: Account, now: datetime | None = None) -> EventsSummary | None:
    """Read every feed from its stored cursor and store new events; None when not configured.

    Each page is stored together with the cursor that follows it, in one transaction, so an
    interruption never skips or double-counts events."""
    token = os.environ.get(account.events_token_env or "", "")
    if not account.events_url or not token:
        return None
    now = now or timezone.now()
    counts: dict[str, int] = {}
    used: set[str] = set()  # the items this import read uses of
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=account.events_url, headers=headers, timeout=30.0, follow_redirects=False) as client:
            for feed, (model, build) in FEEDS.items():
                stored = 0
                start = now - timedelta(days=history_days())
                for items, cursor in _pages(client, feed, account.events_cursors.get(feed), start):
                    rows = [build(account, raw) for raw in items if isinstance(raw, dict) and raw.get("uuid")]
                    with transaction.atomic():
                        model.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
                        account.events_cursors = {**account.events_cursors, feed: cursor}
                        account.save(update_fields=["events_cursors"])
                    stored += len(rows)
                    if model is ItemUsage:
                        used.update(row.item_op_id for row in rows)
                counts[feed] = stored
    finally:
        # Also when a later page fails: the refresh reads only the items this import stored uses
        # of, so the pages already committed must not wait for an import that never comes back to them.
        _refresh_last_used(account, used)
    # After the refresh: last_used_at is read from raw rows, which the roll-up may delete.
    summarise_old_usage(account=account, now=now)
    return EventsSummary(counts["itemusages"], counts["signinattempts"], counts["auditevents"])


def _refresh_last_used(account: Account, used: Iterable[str] | None = None) -> None:
    """Item.last_used_at = latest usage event of that item, in one UPDATE that writes only the
    items whose value changed. Each item's latest use is one step down the (item_op_id, timestamp)
    index; building a Python dict of every item's latest use and `bulk_update`-ing it took 25 s for
    100,000 items (bench/bench_usage.py).

    With `used` (the item ids an import stored uses of), only those items and the items with no
    last use yet are looked at: inserts only move an item's latest use forward, so no other item
    can have changed, and an item synced after its uses were imported still gets its value. Every
    item of the account was 100,000 index steps per import (2.4 s of a day's import)."""
    latest = Subquery(
        ItemUsage.objects.filter(account=account, item_op_id=OuterRef("op_id")).order_by("-timestamp").values("timestamp")[:1]
    )
    items = Item.objects.filter(vault__account=account)
    if used is not None:
        items = items.filter(Q(op_id__in=sorted(set(used))) | Q(last_used_at__isnull=True))
    stale = items.annotate(latest=latest).filter(latest__isnull=False)
    stale.exclude(last_used_at=F("latest")).update(last_used_at=latest)
