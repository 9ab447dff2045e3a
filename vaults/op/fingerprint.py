"""The single place a secret value is held in memory.

`secret_facts` turns a value into facts that are safe to store: a keyed HMAC-SHA256 fingerprint
(finds reuse without storing the value), a zxcvbn score, the length, op's own strength label and
the *count* of history entries. The value and zxcvbn's result (which repeats the password in
`password` and `sequence[].token`) go out of scope here; only integers and a hex digest leave.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Mapping

from zxcvbn import zxcvbn

from vaults.op.records import SecretFacts

# zxcvbn 4.5.0 raises ValueError above max_length=72 (zxcvbn/__init__.py), and its matching is
# super-linear in the length, so longer input is both refused and slow.
ZXCVBN_MAX_CHARS = 72
# zxcvbn() rebinds a key of the module-global RANKED_DICTIONARIES on every call; serialise calls so
# worker threads never see it mid-update. Scoring is CPU-bound, so the GIL loses nothing here.
_ZXCVBN_LOCK = threading.Lock()
# zxcvbn runs of this process, counted under the lock: tests assert that re-reading values already
# scored runs none (timing would not tell a cache hit from a fast machine).
_zxcvbn_runs = 0


def zxcvbn_runs() -> int:
    """How many values this process has scored with zxcvbn so far."""
    return _zxcvbn_runs


class KnownScores:
    """Fingerprint -> zxcvbn score of values already scored, so the same value is not scored again.

    The score is a function of the value alone, and the fingerprint stands for the value under one
    key: a fingerprint made under another key never matches (HMAC), so a wrong entry cannot be
    reused, only missed. Filled from the account's stored SecretFields when a sync starts and by
    every value scored during it (reused secrets, retried batches). Only hex digests and integers,
    like the stored rows. Shared by the op threads: a dict's get and set are atomic under the GIL,
    and two threads scoring the same new value at once merely both run zxcvbn.

    Reuse trusts that stored scores came from today's `strength_score`: a change of scorer (or of
    ZXCVBN_MAX_CHARS) must clear the stored scores, or unchanged values keep their old score.
    """

    def __init__(self, scores: Mapping[str, int] | None = None) -> None:
        self._scores: dict[str, int] = dict(scores or {})

    def __len__(self) -> int:
        return len(self._scores)

    def get(self, fingerprint: str) -> int | None:
        return self._scores.get(fingerprint)

    def add(self, fingerprint: str, score: int) -> None:
        self._scores[fingerprint] = score


def fingerprint(value: str, *, key: bytes) -> str:
    """HMAC-SHA256(key, UTF-8 value) as 64 hex characters."""
    if not key:
        raise ValueError("a fingerprint key is required; an unkeyed hash of a password is guessable")
    return hmac.new(key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def strength_score(value: str) -> int:
    """zxcvbn score 0-4 of `value`, scoring at most the first ZXCVBN_MAX_CHARS characters.

    Long secrets (API keys, private keys) are scored on their first 72 characters only. We
    deliberately do not add a length-based floor: a 200-character repetition of "ab" is still
    weak, and its prefix scores it so. For anything non-trivial the 72-character prefix already
    reaches score 4 (zxcvbn's top band starts at 1e10 guesses), so truncation never understates a
    strong secret, and it keeps the call fast.
    """
    global _zxcvbn_runs
    with _ZXCVBN_LOCK:
        _zxcvbn_runs += 1
        result = zxcvbn(value[:ZXCVBN_MAX_CHARS])
    score = int(result["score"])
    del result  # holds the password and its tokens
    return max(0, min(4, score))


def secret_facts(
    value: str | None,
    *,
    strength_label: str,
    history_count: int,
    key: bytes,
    score_strength: bool = True,
    known_scores: KnownScores | None = None,
) -> SecretFacts:
    """Derived facts about one concealed value.

    `value` None (op returned the field without a value) gives no fingerprint, score or length
    and `value_available=False`. An empty value is available but gets no fingerprint or score:
    otherwise every unused password field would be a "duplicate" of every other one.
    `score_strength=False` skips zxcvbn (private keys: a guess
    count means nothing for them; the fingerprint still finds a key stored twice).
    `known_scores` gives the score of a value already scored (its fingerprint is known) without
    running zxcvbn, and learns each value scored here.
    """
    if value is None or value == "":
        return SecretFacts(
            fingerprint=None,
            zxcvbn_score=None,
            length=None if value is None else 0,
            strength=strength_label,
            history_count=history_count,
            value_available=value is not None,
        )
    digest = fingerprint(value, key=key)
    score: int | None = None
    if score_strength:
        score = known_scores.get(digest) if known_scores is not None else None
        if score is None:
            score = strength_score(value)
            if known_scores is not None:
                known_scores.add(digest, score)
    return SecretFacts(
        fingerprint=digest,
        zxcvbn_score=score,
        length=len(value),
        strength=strength_label,
        history_count=history_count,
        value_available=True,
    )
