"""`secret_facts` with known scores: a value whose fingerprint is known is not scored again."""

from __future__ import annotations

import importlib.metadata

from zxcvbn import zxcvbn

from vaults.op import fingerprint as fingerprint_module
from vaults.op.fingerprint import KnownScores, fingerprint, secret_facts, zxcvbn_runs

KEY = b"k" * 32
STRONG = "W9bZ@ZwGpRXCqnWt-rT7!qp"


def facts(value: str | None, known: KnownScores, *, key: bytes = KEY, score_strength: bool = True):
    return secret_facts(value, strength_label="", history_count=0, key=key, score_strength=score_strength,
                        known_scores=known)


def test_a_known_fingerprint_gives_its_score_without_running_zxcvbn() -> None:
    # A deliberately wrong stored score: only a real lookup can return it.
    known = KnownScores({fingerprint(STRONG, key=KEY): 1})
    before = zxcvbn_runs()

    result = facts(STRONG, known)

    assert result.zxcvbn_score == 1
    assert zxcvbn_runs() == before


def test_an_unknown_value_is_scored_once_and_then_known() -> None:
    known = KnownScores()
    before = zxcvbn_runs()

    first = facts("correct horse battery", known)
    second = facts("correct horse battery", known)

    assert first.zxcvbn_score == second.zxcvbn_score == zxcvbn("correct horse battery")["score"]
    assert zxcvbn_runs() == before + 1
    assert known.get(first.fingerprint or "") == first.zxcvbn_score


def test_decoy_the_same_value_under_another_key_is_not_a_known_one() -> None:
    known = KnownScores({fingerprint(STRONG, key=b"another key"): 0})
    before = zxcvbn_runs()

    result = facts(STRONG, known)

    assert result.zxcvbn_score == 4
    assert zxcvbn_runs() == before + 1


def test_decoy_a_private_key_gets_no_score_even_when_its_fingerprint_is_known() -> None:
    key_text = "-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----\n"
    known = KnownScores({fingerprint(key_text, key=KEY): 3})
    before = zxcvbn_runs()

    result = facts(key_text, known, score_strength=False)

    assert result.zxcvbn_score is None and result.fingerprint
    assert zxcvbn_runs() == before
    assert len(known) == 1  # nothing learned: no score was made


def test_decoy_empty_and_missing_values_are_neither_looked_up_nor_learned() -> None:
    known = KnownScores()

    assert facts("", known).zxcvbn_score is None
    assert facts(None, known).zxcvbn_score is None
    assert len(known) == 0


def test_stored_scores_came_from_the_scorer_this_release_runs() -> None:
    """A sync reuses the zxcvbn score it stored for an unchanged value (KnownScores), trusting
    that today's scorer gave it. When this fails because zxcvbn or ZXCVBN_MAX_CHARS changed, ship
    a data migration that clears every stored `SecretField.zxcvbn_score` (the next sync scores
    each value anew), then update the figures here."""
    assert importlib.metadata.version("zxcvbn") == "4.5.0"
    assert fingerprint_module.ZXCVBN_MAX_CHARS == 72
