"""`short` skips re-joining a title's words when it needs no whitespace folding (~300k calls on a
first run at 100k items); what it returns must not change."""

from __future__ import annotations

import pytest

from vaults.findings.candidate import short


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Stripe Production API Key", "Stripe Production API Key"),  # fast path, unchanged
        ("Stripe  Production", "Stripe Production"),  # two spaces fold to one
        (" Stripe", "Stripe"),
        ("Stripe ", "Stripe"),
        ("Stripe\tProduction\nKey", "Stripe Production Key"),
        ("Stripe\u00a0Production", "Stripe Production"),  # a no-break space is whitespace too
        ("Stripe\x1fProduction", "Stripe Production"),  # so is the unit separator
        ("Stripe\u200bProduction", "Stripe\u200bProduction"),  # decoy: a zero-width space is not
        ("", ""),
    ],
)
def test_short_folds_whitespace_as_before(text: str, expected: str) -> None:
    assert short(text) == expected


def test_short_cuts_long_titles_after_folding() -> None:
    assert short("a" * 301) == "a" * 299 + "…"
    assert short("a" * 300) == "a" * 300  # decoy: at the limit, kept whole
    assert short("a  " * 150) == " ".join(["a"] * 150)  # 450 characters before folding, 299 after
