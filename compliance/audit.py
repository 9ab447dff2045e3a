"""The hash-chained, append-only audit log: appending, and verifying the chain.

Each entry's hash is HMAC-SHA256, under `settings.AUDIT_KEY`, over a canonical JSON of its own
content and the previous entry's hash. The key is never in the database, so write access to the
database is not enough to recompute a chain that verifies. Entries written before the key existed
keep their plain SHA-256 hash (`hash_scheme` says which); such entries may only form the start of
the chain, and a keyed entry must follow them (the migration that introduced the key appends one),
so an attacker cannot pass off a recomputed chain as "old".

Appends take a lock (a PostgreSQL advisory lock; SQLite serialises writers itself) so two
concurrent appends can never both chain onto the same predecessor.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, NamedTuple

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from compliance.models import AuditLogEntry, HashScheme
from openclaw_web import data_versions

GENESIS_HASH = "0" * 64
_ADVISORY_LOCK_ID = 0x0C1A_A0D1  # arbitrary, constant: one lock for the one chain


def _canonical(entry: Any) -> bytes:
    """The bytes an entry's hash covers (`entry`: an AuditLogEntry, or its historical model in a migration)."""
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


def _audit_key(key: str | None) -> bytes:
    key = settings.AUDIT_KEY if key is None else key
    if not key:
        raise ImproperlyConfigured("AUDIT_KEY is empty: audit entries cannot be keyed.")
    return key.encode()


def compute_hash(entry: Any, *, key: str | None = None) -> str:
    """The hash `entry` must carry under its own `hash_scheme` (keyed with AUDIT_KEY unless `key`)."""
    if entry.hash_scheme == HashScheme.SHA256:
        return hashlib.sha256(_canonical(entry)).hexdigest()
    if entry.hash_scheme == HashScheme.HMAC_SHA256:
        return hmac.new(_audit_key(key), _canonical(entry), hashlib.sha256).hexdigest()
    raise ValueError(f"Unknown audit hash scheme {entry.hash_scheme!r}")


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
            actor=actor,  # type: ignore[misc]  # an authenticated AnonymousUser cannot reach here (checked above)
            actor_label=label[:300],
            action=action,
            target_type=target_type,
            target_id=str(target_id)[:200],
            target_label=target_label[:500],
            ip_address=client_ip(request),
            details=json.loads(json.dumps(details or {}, default=str)),
            prev_hash=last["entry_hash"] if last else GENESIS_HASH,
            hash_scheme=HashScheme.HMAC_SHA256,
        )
        entry.entry_hash = compute_hash(entry)
        entry.save()
        # Every change a person makes is audited here, so here the cached pages learn of it.
        data_versions.note_audited_action(action)
    return entry


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    head: str
    problems: tuple[str, ...]


class ChainAnchor(NamedTuple):
    """The newest entry's sequence number and hash: (0, GENESIS_HASH) for an empty chain."""

    seq: int
    head: str


def chain_anchor() -> ChainAnchor:
    """Read in one query, so the seq and the hash are always of the same entry."""
    last = AuditLogEntry.objects.order_by("-seq").values_list("seq", "entry_hash").first()
    return ChainAnchor(*last) if last else ChainAnchor(0, GENESIS_HASH)


def chain_head() -> str:
    return chain_anchor().head


def verify_chain(*, max_problems: int = 50) -> ChainReport:
    """Walk the chain in sequence order and report every break:
    1. a row whose stored hash does not match its content under its scheme (edited, or
       recomputed without the audit key, or with another key);
    2. a row whose prev_hash is not the previous row's hash (deleted or reordered);
    3. a gap in the sequence numbers (deleted);
    4. a plain SHA-256 row after a keyed one, or a chain whose newest row is plain SHA-256:
       plain hashes are accepted only for the rows written before the key existed, which a keyed
       row always follows (a whole chain recomputed in plain SHA-256 fails here)."""
    problems: list[str] = []
    prev_hash = GENESIS_HASH
    expected_seq = 1
    count = 0
    keyed_seen = False
    last_scheme = ""
    for entry in AuditLogEntry.objects.order_by("seq").iterator(chunk_size=2000):
        count += 1
        if entry.seq != expected_seq:
            problems.append(f"entry #{entry.seq}: expected #{expected_seq} next (rows missing or renumbered)")
        if entry.prev_hash != prev_hash:
            problems.append(f"entry #{entry.seq}: previous-hash link broken (a row before it was removed, inserted or reordered)")
        if entry.hash_scheme not in HashScheme.values:
            problems.append(f"entry #{entry.seq}: unknown hash scheme {entry.hash_scheme!r}")
        elif compute_hash(entry) != entry.entry_hash:
            problems.append(f"entry #{entry.seq}: content does not match its hash (row was edited, or rehashed without the audit key)")
        if entry.hash_scheme == HashScheme.SHA256 and keyed_seen:
            problems.append(f"entry #{entry.seq}: plain SHA-256 hash after keyed entries (rows were rehashed without the audit key)")
        keyed_seen = keyed_seen or entry.hash_scheme == HashScheme.HMAC_SHA256
        last_scheme = entry.hash_scheme
        prev_hash = entry.entry_hash
        expected_seq = entry.seq + 1
        if len(problems) >= max_problems:
            break
    else:
        if count and last_scheme == HashScheme.SHA256:
            problems.append(f"entry #{expected_seq - 1}: the newest entry is not keyed; no keyed entry vouches for the "
                            "plain SHA-256 ones, which anyone with database access can recompute")
    return ChainReport(ok=not problems, entries=count, head=prev_hash, problems=tuple(problems))
