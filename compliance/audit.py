"""The hash-chained, append-only audit log: appending, and verifying the chain.

Each entry's hash is SHA-256 over a canonical JSON of its own content and the previous entry's
hash. Appends take a lock (a PostgreSQL advisory lock; SQLite serialises writers itself) so two
concurrent appends can never both chain onto the same predecessor.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from axes.helpers import get_client_ip_address
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from compliance.models import AuditLogEntry

GENESIS_HASH = "0" * 64
_ADVISORY_LOCK_ID = 0x0C1A_A0D1  # arbitrary, constant: one lock for the one chain


def _canonical(entry: AuditLogEntry) -> bytes:
    body = {
        "seq": entry.seq,
        "created_at": entry.created_at.isoformat(),
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "target_label": entry.target_label,
        "ip_address": entry.ip_address,
        "details": entry.details,
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str).encode()


def compute_hash(entry: AuditLogEntry) -> str:
    return hashlib.sha256(_canonical(entry)).hexdigest()


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address as the sign-in lockout sees it: one resolver (django-ipware through
    axes, configured by TRUSTED_PROXY_COUNT in settings), so behind a proxy the log shows the
    real client, and a forged X-Forwarded-For is believed nowhere when no proxy is trusted."""
    if request is None:
        return None
    return get_client_ip_address(request) or None


def record(
    action: str,
    *,
    actor: AbstractBaseUser | AnonymousUser | None = None,
    actor_label: str = "",
    request: HttpRequest | None = None,
    target: Any = None,
    target_type: str = "",
    target_id: str = "",
    target_label: str = "",
    details: dict[str, Any] | None = None,
) -> AuditLogEntry:
    """Append one entry. `details` must never hold a secret value: callers pass identifiers,
    counts and labels only."""
    if actor is None and request is not None:
        actor = request.user
    if actor is not None and not actor.is_authenticated:
        actor = None
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or str(target.pk)
        target_label = target_label or str(target)[:500]
    label = actor_label or (actor.get_username() if actor is not None else "system")
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_ID])
        last = AuditLogEntry.objects.order_by("-seq").values("seq", "entry_hash").first()
        entry = AuditLogEntry(
            seq=(last["seq"] + 1) if last else 1,
            created_at=timezone.now(),
            actor=actor if actor is not None else None,  # type: ignore[misc]
            actor_label=label[:300],
            action=action,
            target_type=target_type,
            target_id=str(target_id)[:200],
            target_label=target_label[:500],
            ip_address=client_ip(request),
            details=json.loads(json.dumps(details or {}, default=str)),
            prev_hash=last["entry_hash"] if last else GENESIS_HASH,
        )
        entry.entry_hash = compute_hash(entry)
        entry.save()
    return entry


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    head: str
    problems: tuple[str, ...]


def chain_head() -> str:
    last = AuditLogEntry.objects.order_by("-seq").values_list("entry_hash", flat=True).first()
    return last or GENESIS_HASH


def verify_chain(*, max_problems: int = 50) -> ChainReport:
    """Walk the chain in sequence order and report every break:
    1. a row whose stored hash does not match its content (edited);
    2. a row whose prev_hash is not the previous row's hash (deleted or reordered);
    3. a gap in the sequence numbers (deleted)."""
    problems: list[str] = []
    prev_hash = GENESIS_HASH
    expected_seq = 1
    count = 0
    for entry in AuditLogEntry.objects.order_by("seq").iterator(chunk_size=2000):
        count += 1
        if entry.seq != expected_seq:
            problems.append(f"entry #{entry.seq}: expected #{expected_seq} next (rows missing or renumbered)")
        if entry.prev_hash != prev_hash:
            problems.append(f"entry #{entry.seq}: previous-hash link broken (a row before it was removed, inserted or reordered)")
        if compute_hash(entry) != entry.entry_hash:
            problems.append(f"entry #{entry.seq}: content does not match its hash (row was edited)")
        prev_hash = entry.entry_hash
        expected_seq = entry.seq + 1
        if len(problems) >= max_problems:
            break
    return ChainReport(ok=not problems, entries=count, head=prev_hash, problems=tuple(problems))
