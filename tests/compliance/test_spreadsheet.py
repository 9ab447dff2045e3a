from __future__ import annotations

import datetime

from compliance.spreadsheet import safe_cell


def test_control_characters_xml_forbids_are_dropped_and_tab_newline_kept() -> None:
    assert safe_cell("a\x00b\x07c\x1fd\te\nf\rg") == "abcd\te\nf\rg"


def test_text_that_would_be_a_formula_is_quoted_also_behind_control_characters() -> None:
    assert safe_cell('=HYPERLINK("http://x","y")') == "'=HYPERLINK(\"http://x\",\"y\")"
    assert safe_cell("\x01\x02@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("  -2+3") == "'  -2+3"


def test_plain_text_and_typed_values_pass_unchanged() -> None:
    when = datetime.date(2026, 11, 24)
    assert safe_cell("Stripe Production API Key") == "Stripe Production API Key"
    assert safe_cell(42) == 42 and safe_cell(when) is when and safe_cell(None) is None
