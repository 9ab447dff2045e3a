"""Find any piece of a planted secret in a haystack: a database dump, Redis, a page, an export,
an e-mail.

Searching for the whole secret (or for the `CANARY-` marker) passes when a product stores a
truncated value, its last characters, or a value split over two lines of a PDF. So every
canary is cut into windows of `WINDOW` characters and a haystack fails when it holds any window.

Windows made only of lowercase hex digits and dashes are the exception: the product rightly
stores plenty of hex (fingerprints, SHA-256 of artifacts, the audit chain, UUIDs), and an
8-character hex window would turn up in it by chance (the demo org's ~1,000 canaries give ~9,000
such windows against 16^8 = 4.3e9 values: a few percent per test run over a large dump). Those
windows must be `HEX_WINDOW` long instead (16^12 = 2.8e14: chance matches ~1e-6 per run).
"""

from __future__ import annotations

import io
import re
import subprocess
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.message import Message
from typing import Any

import ahocorasick
import redis
from django.core.mail import EmailMessage
from django.db import connection

WINDOW = 8
HEX_WINDOW = 12
_LOW_ENTROPY = frozenset("0123456789abcdef-")
# A scan stops collecting after this many sightings in one haystack: one is enough to fail.
MAX_SIGHTINGS = 50
_PDF_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.DOTALL)


@dataclass(frozen=True)
class Sighting:
    where: str
    canary: str
    piece: str
    offset: int

    def __str__(self) -> str:
        return f"{self.where}: {self.piece!r} (from {self.canary[:12]}…) at offset {self.offset}"


class CanaryScanner:
    """Every window of every canary in one Aho-Corasick automaton (pyahocorasick), so a scan
    reads each haystack once in C whatever the number of windows (~30,000 for the demo org).
    Measured on this 2-core host: 21 MB of dump-like text against 1,200 canaries, 1.1 s of CPU
    (4.8 s wall at load 25); a pure-Python set lookup at each position took 10.7 s wall."""

    def __init__(self, canaries: Iterable[str]) -> None:
        self.automaton = ahocorasick.Automaton()
        for canary in canaries:
            assert canary.isascii() and len(canary) >= WINDOW, f"canary {canary[:12]!r} is too short to search for"
            for size in (WINDOW, HEX_WINDOW):
                for start in range(len(canary) - size + 1):
                    piece = canary[start : start + size]
                    # 8-character windows with a letter past "f" or an uppercase one; all-hex ones at 12.
                    if (size == HEX_WINDOW) == (set(piece) <= _LOW_ENTROPY):
                        self.automaton.add_word(piece, (piece, canary))
        assert len(self.automaton), "no canary to search for"
        self.automaton.make_automaton()

    def find(self, haystack: str | bytes, where: str = "haystack") -> list[Sighting]:
        # Latin-1 maps each byte to one character: ASCII windows match whatever encoding (or
        # binary) surrounds them.
        text = haystack.decode("latin-1") if isinstance(haystack, bytes) else haystack
        found: list[Sighting] = []
        for end, (piece, canary) in self.automaton.iter(text):
            found.append(Sighting(where, canary, piece, end - len(piece) + 1))
            if len(found) >= MAX_SIGHTINGS:
                break
        return found

    def find_in_all(self, haystacks: Iterable[tuple[str, str | bytes]]) -> list[Sighting]:
        return [sighting for where, haystack in haystacks for sighting in self.find(haystack, where)]

    def assert_absent(self, haystacks: Iterable[tuple[str, str | bytes]]) -> None:
        sightings = self.find_in_all(haystacks)
        places = sorted({s.where for s in sightings})
        assert not sightings, (
            f"{len(sightings)} pieces of secrets in {len(places)} places, first in {places[:5]}:\n"
            + "\n".join(str(s) for s in sightings[:10])
        )


def planted_secrets(organisation: dict[str, Any]) -> list[str]:
    """Every canary of a fake organisation (vaults/fake_op/demo.py), and its tokens, which only
    ever live in the environment."""
    return [*organisation["canaries"], *(t["token"] for t in organisation["tokens"]), organisation["events_token"]]


# Haystacks: each function returns (where, content) pairs for `CanaryScanner.assert_absent`.


def pg_dump() -> list[tuple[str, bytes]]:
    """The test database as `pg_dump` writes it (every table's rows as COPY text)."""
    params = connection.settings_dict
    result = subprocess.run(
        ["pg_dump", "-h", params.get("HOST") or "127.0.0.1", "-U", params.get("USER") or "postgres", params["NAME"]],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    return [("pg_dump", result.stdout)]


def redis_contents(url: str) -> list[tuple[str, bytes]]:
    """Every key and every value of one Redis database, as stored (pickles and JSON included)."""
    client = redis.Redis.from_url(url)
    found: list[tuple[str, bytes]] = []
    for key in client.scan_iter(count=1000):
        kind = client.type(key)
        kind = kind.decode() if isinstance(kind, bytes) else str(kind)
        # Each reader takes the key as an argument (a closure over the loop variable would read
        # whatever key the loop holds when it is called: ruff B023).
        readers: dict[str, Callable[[Any], list[Any]]] = {
            "string": lambda k: [client.get(k)],
            "list": lambda k: client.lrange(k, 0, -1),
            "hash": lambda k: [b for pair in client.hgetall(k).items() for b in pair],
            "set": lambda k: list(client.smembers(k)),
            "zset": lambda k: [pair[0] for pair in client.zrange(k, 0, -1, withscores=True)],
            "stream": lambda k: [repr(client.xrange(k)).encode()],
        }
        values = readers.get(kind, lambda k: [client.dump(k)])(key)  # anything else: its serialised form
        found.append((f"redis {url} key", key))
        found.extend((f"redis {url} value of {key[:80]!r}", value) for value in values if value is not None)
    return found


def pdf_text(pdf: bytes) -> str:
    """What `pdftotext` reads from a PDF (poppler-utils, like tests/compliance/reports/helpers.py)."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(pdf)
        handle.flush()
        done = subprocess.run(["pdftotext", "-layout", handle.name, "-"], capture_output=True, check=True, timeout=120)
    return done.stdout.decode("utf-8", "replace")


def pdf_streams(pdf: bytes) -> list[bytes]:
    """Every stream of a PDF, inflated where it is Flate-compressed (metadata, ToUnicode maps,
    content streams): catches a value hidden from the text layer, e.g. in an annotation or
    a document property."""
    streams = []
    for match in _PDF_STREAM.finditer(pdf):
        try:
            streams.append(zlib.decompress(match.group(1)))
        except zlib.error:
            streams.append(match.group(1))
    return streams


def artifact_contents(name: str, blob: bytes) -> list[tuple[str, bytes | str]]:
    """The searchable forms of an exported file: a ZIP (Excel, the report bundle) member by
    member, recursively; a PDF as text, raw bytes and inflated streams; anything else as is."""
    if blob.startswith(b"PK\x03\x04"):
        found: list[tuple[str, bytes | str]] = []
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            for member in archive.namelist():
                found += artifact_contents(f"{name}!{member}", archive.read(member))
        return found
    if blob.startswith(b"%PDF"):
        forms: list[tuple[str, bytes | str]] = [(f"{name} (pdftotext)", pdf_text(blob)), (f"{name} (raw)", blob)]
        return forms + [(f"{name} (stream {n})", stream) for n, stream in enumerate(pdf_streams(blob))]
    return [(name, blob)]


def email_contents(messages: Iterable[EmailMessage]) -> list[tuple[str, bytes | str]]:
    """Subject, recipients, body, alternatives and every attachment (opened as an artifact) of
    each message in Django's outbox, and the MIME text as it would be sent."""
    found: list[tuple[str, bytes | str]] = []
    for n, message in enumerate(messages):
        where = f"e-mail {n} {message.subject[:60]!r}"
        found.append((f"{where} headers", f"{message.subject}\n{message.to}\n{message.cc}\n{message.from_email}"))
        found.append((f"{where} body", str(message.body)))
        for alternative in getattr(message, "alternatives", []):
            found.append((f"{where} alternative", str(alternative[0])))
        for attachment in message.attachments:
            if isinstance(attachment, Message):
                found.append((f"{where} attached message", attachment.as_bytes()))
                continue
            filename, content = attachment[0], attachment[1]
            blob = content.encode() if isinstance(content, str) else content
            found += artifact_contents(f"{where} attachment {filename}", blob)
        found.append((f"{where} MIME", message.message().as_bytes()))
    return found
