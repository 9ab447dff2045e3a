"""The fingerprint module keeps facts, never the value, and copes with long secrets."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest

from vaults.op.fingerprint import ZXCVBN_MAX_CHARS, fingerprint, secret_facts, strength_score

KEY = b"k" * 32


def test_it_fingerprints_with_hmac_sha256_of_the_key() -> None:
    assert fingerprint("hunter2", key=KEY) == hmac.new(KEY, b"hunter2", hashlib.sha256).hexdigest()
    assert fingerprint("hunter2", key=KEY) != fingerprint("hunter2", key=b"another key")


def test_it_refuses_an_empty_key() -> None:
    with pytest.raises(ValueError, match="fingerprint key is required"):
        fingerprint("x", key=b"")


def test_it_scores_weak_and_strong_passwords_apart() -> None:
    assert strength_score("password") == 0
    assert strength_score("W9bZ@ZwGpRXCqnWt-rT7!qp") == 4


def test_it_scores_a_secret_longer_than_zxcvbn_accepts_quickly() -> None:
    started = time.monotonic()
    assert strength_score("Zx8#" * 2000) >= 0  # 8000 chars: zxcvbn alone would raise ValueError
    assert time.monotonic() - started < 5


def test_it_does_not_let_length_hide_a_repeated_pattern() -> None:
    assert strength_score("ab" * 100) <= 1


def test_it_keeps_only_facts() -> None:
    facts = secret_facts("correct horse", strength_label="GOOD", history_count=3, key=KEY)
    assert facts.fingerprint == fingerprint("correct horse", key=KEY)
    assert facts.length == 13 and facts.history_count == 3 and facts.strength == "GOOD"
    assert facts.value_available
    assert "correct horse" not in repr(facts)


def test_it_reports_a_missing_value_as_unavailable() -> None:
    facts = secret_facts(None, strength_label="", history_count=0, key=KEY)
    assert not facts.value_available
    assert facts.fingerprint is None and facts.zxcvbn_score is None and facts.length is None


def test_it_skips_scoring_when_asked() -> None:
    facts = secret_facts(
        "-----BEGIN PRIVATE KEY-----", strength_label="", history_count=0, key=KEY, score_strength=False
    )
    assert facts.zxcvbn_score is None and facts.fingerprint is not None


def test_it_handles_values_at_the_zxcvbn_limit() -> None:
    assert 0 <= strength_score("q" * ZXCVBN_MAX_CHARS) <= 4
    assert 0 <= strength_score("q" * (ZXCVBN_MAX_CHARS + 1)) <= 4
