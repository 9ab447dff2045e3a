"""Anchors: the audit chain's newest (seq, hash) kept where cutting the chain's tail shows.

Deleting the newest entries leaves a chain that is intact in itself: every remaining link still
verifies. Only a record of an entry that *was* there tells the cut apart from a quiet day. Three
such records are compared with the chain by `verify_audit_log`:

1. every report artifact's (chain_seq, chain_head), the head printed on its cover;
2. `AuditAnchor` rows, one a day from beat (and one per `verify_audit_log --write-anchor`);
3. the latest anchor as a file outside the database (`settings.AUDIT_ANCHOR_FILE`), also logged on
   `settings.AUDIT_ANCHOR_LOGGER` (to syslog when AUDIT_ANCHOR_SYSLOG is set).

1 and 2 live in the database, so they stop a cut that leaves them behind; 3 is out of reach of
anyone whose access is the database alone. A new file anchor is written only when the previous
one still matches the chain, so the evidence of a cut is never overwritten by the next day's run.
"""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from compliance import audit
from compliance.models import AuditAnchor, AuditLogEntry
from compliance.reports.models import ReportArtifact
from openclaw_web.local_files import replace_private_file

# seq__in lists are sent in chunks of this size (well under SQLite's 32,766 bound parameters).
_LOOKUP_CHUNK = 1000


class AnchorRefused(RuntimeError):
    """The anchor already on file no longer matches the chain; it is kept, not overwritten."""


class MalformedAnchorFile(ValueError):
    """The anchor file exists but is not one this module wrote."""


@dataclass(frozen=True)
class FileAnchor:
    seq: int
    entry_hash: str
    written_at: str
    source: str


@dataclass(frozen=True)
class AnchorCheck:
    problems: tuple[str, ...]  # an anchor the chain contradicts: verification fails
    warnings: tuple[str, ...]  # an anchor that cannot be checked: said, but not a failure
    checked: int  # anchors compared with the chain and found in it

    @property
    def ok(self) -> bool:
        return not self.problems


def anchor_file() -> Path:
    return Path(settings.AUDIT_ANCHOR_FILE)


def read_anchor_file(path: Path | None = None) -> FileAnchor | None:
    """The anchor on file, or None when there is no file yet."""
    path = path or anchor_file()
    try:
        raw = path.read_text()
    except FileNotFoundError:
        return None
    try:
        data = json.loads(raw)
        anchor = FileAnchor(seq=int(data["seq"]), entry_hash=str(data["entry_hash"]),
                            written_at=str(data.get("written_at", "")), source=str(data.get("source", "")))
    except (ValueError, KeyError, TypeError) as error:
        raise MalformedAnchorFile(f"{path} is not an audit anchor file ({type(error).__name__})") from error
    if anchor.seq < 1 or len(anchor.entry_hash) != 64:
        raise MalformedAnchorFile(f"{path} names no audit entry (seq {anchor.seq})")
    return anchor


def _hashes_at(seqs: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(seqs))
    found: dict[int, str] = {}
    for start in range(0, len(wanted), _LOOKUP_CHUNK):
        chunk = wanted[start:start + _LOOKUP_CHUNK]
        found.update(AuditLogEntry.objects.filter(seq__in=chunk).values_list("seq", "entry_hash"))
    return found


def _contradiction(seq: int, entry_hash: str, *, hashes: dict[int, str], newest: int) -> str | None:
    """Why the chain contradicts an anchor of (seq, entry_hash), or None when it agrees."""
    if seq > newest:
        return (f"it names entry #{seq}, but the chain now ends at #{newest}: "
                "the newest entries were removed")
    if seq not in hashes:
        return f"entry #{seq} is missing from the chain"
    if hashes[seq] != entry_hash:
        return (f"entry #{seq} now has hash {hashes[seq]}, the anchor recorded {entry_hash}: "
                "the chain was rewritten up to that entry")
    return None


def _artifact_label(row: Mapping[str, Any]) -> str:
    return f"report artifact #{row['pk']} ({row['kind']} {row['period']} {row['format']})"


def _check_artifacts(*, newest: int, problems: list[str], warnings: list[str]) -> int:
    """1. An artifact with chain_seq: its entry must be there with its head (0 and the genesis
    hash: the chain was empty then). 2. One made before chain_seq was recorded: its head is looked
    up by hash; found, it is fine; not found, it is reported as unanchored, a warning: without its
    entry number it cannot say where the chain differs."""
    rows = list(ReportArtifact.objects.exclude(chain_head="").order_by("pk")
                .values("pk", "kind", "period", "format", "chain_seq", "chain_head"))
    hashes = _hashes_at(r["chain_seq"] for r in rows if r["chain_seq"])
    legacy_heads = {r["chain_head"] for r in rows if r["chain_seq"] is None and r["chain_head"] != audit.GENESIS_HASH}
    known_heads: set[str] = set()
    for start in range(0, len(legacy_heads), _LOOKUP_CHUNK):
        chunk = sorted(legacy_heads)[start:start + _LOOKUP_CHUNK]
        known_heads.update(AuditLogEntry.objects.filter(entry_hash__in=chunk).values_list("entry_hash", flat=True))
    checked = 0
    for row in rows:
        seq, head = row["chain_seq"], row["chain_head"]
        if seq is None:
            if head == audit.GENESIS_HASH or head in known_heads:
                checked += 1
            else:
                warnings.append(f"{_artifact_label(row)} is unanchored: it predates recorded entry numbers "
                                f"and its chain head {head} is not in the chain")
            continue
        if seq == 0:
            if head != audit.GENESIS_HASH:
                problems.append(f"{_artifact_label(row)}: it records entry #0 with head {head}, not the empty chain's")
            else:
                checked += 1
            continue
        why = _contradiction(seq, head, hashes=hashes, newest=newest)
        if why:
            problems.append(f"{_artifact_label(row)}: {why}")
        else:
            checked += 1
    return checked


def _check_anchor_rows(*, newest: int, problems: list[str]) -> int:
    rows = list(AuditAnchor.objects.order_by("seq", "pk").values("pk", "seq", "entry_hash", "created_at", "source"))
    hashes = _hashes_at(r["seq"] for r in rows)
    checked = 0
    for row in rows:
        why = _contradiction(row["seq"], row["entry_hash"], hashes=hashes, newest=newest)
        if why:
            problems.append(f"audit anchor #{row['pk']} ({row['source']}, {row['created_at']:%Y-%m-%d %H:%M} UTC): {why}")
        else:
            checked += 1
    return checked


def _check_file(*, newest: int, problems: list[str], warnings: list[str]) -> int:
    path = anchor_file()
    try:
        anchor = read_anchor_file(path)
    except MalformedAnchorFile as error:
        problems.append(f"external anchor file: {error}")
        return 0
    except OSError as error:
        problems.append(f"external anchor file {path} cannot be read: {error.strerror}")
        return 0
    if anchor is None:
        if newest:
            warnings.append(f"no external anchor file at {path} yet (written daily by beat, "
                            "or by `verify_audit_log --write-anchor`)")
        return 0
    why = _contradiction(anchor.seq, anchor.entry_hash, hashes=_hashes_at([anchor.seq]), newest=newest)
    if why:
        problems.append(f"external anchor file {path} (written {anchor.written_at}, {anchor.source}): {why}")
        return 0
    return 1


def verify_anchors() -> AnchorCheck:
    """Compare every anchor (module docstring) with the chain as it is now."""
    newest = audit.chain_anchor().seq
    problems: list[str] = []
    warnings: list[str] = []
    checked = _check_anchor_rows(newest=newest, problems=problems)
    checked += _check_artifacts(newest=newest, problems=problems, warnings=warnings)
    checked += _check_file(newest=newest, problems=problems, warnings=warnings)
    return AnchorCheck(problems=tuple(problems), warnings=tuple(warnings), checked=checked)


def write_anchor(*, source: str, now: datetime.datetime | None = None) -> AuditAnchor | None:
    """Record the chain's newest entry as an anchor. None when the chain is empty.

    1. Read the newest (seq, hash).
    2. Compare the file anchor with the chain; if the chain contradicts it, raise AnchorRefused and
       keep the file: it is the evidence of the cut.
    3. Store an AuditAnchor row, then replace the file atomically (0600), then log it.
    """
    seq, head = audit.chain_anchor()
    if seq == 0:
        return None
    path = anchor_file()
    try:
        previous = read_anchor_file(path)
    except MalformedAnchorFile as error:
        raise AnchorRefused(f"{error}; it was left in place") from error
    if previous is not None:
        why = _contradiction(previous.seq, previous.entry_hash, hashes=_hashes_at([previous.seq]), newest=seq)
        if why:
            raise AnchorRefused(f"the anchor in {path} no longer matches the audit chain ({why}); it was left in place")
    now = now or timezone.now()
    anchor = AuditAnchor.objects.create(seq=seq, entry_hash=head, created_at=now, source=source)
    content = {"seq": seq, "entry_hash": head, "written_at": now.isoformat(), "source": source}
    replace_private_file(path, json.dumps(content, sort_keys=True) + "\n")
    logging.getLogger(settings.AUDIT_ANCHOR_LOGGER).info("audit chain anchor: entry #%s hash %s (%s)", seq, head, source)
    return anchor
