"""Spreadsheet-safe text. Every string written to an Excel or CSV export goes through
`safe_cell`, so no cell is a formula or becomes one when a person edits it (CWE-1236)."""

from __future__ import annotations

import re
from typing import Any

# Characters that make Excel, LibreOffice or Sheets treat text as a formula or a DDE call,
# also after leading whitespace/control characters are stripped on edit.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\x00")
# Characters XML 1.0 forbids, deleted in one C-level pass: C0 controls (openpyxl refuses them),
# the non-characters U+FFFE/U+FFFF and lone surrogates (valid in a 1Password title as JSON and in
# PostgreSQL, but a sheet holding one is not well-formed and Excel "repairs" it by dropping the
# sheet; openpyxl would write them unchecked). A regex, not str.translate: translate looks every
# character up in a dict (12 µs for a 100-character title; the regex 0.5 µs), which was a third of
# a 100,000-finding workbook (bench/bench_xlsx.py).
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str) -> str:
    """`value` without the characters XML 1.0 cannot hold (no formula escaping: for sheet names,
    document properties and header text, which are never cells)."""
    return _ILLEGAL_XML.sub("", value)


def safe_text(value: str) -> str:
    cleaned = _ILLEGAL_XML.sub("", value)
    if value.startswith(_FORMULA_TRIGGERS) or cleaned.lstrip().startswith(_FORMULA_TRIGGERS):
        return "'" + cleaned
    return cleaned


def safe_cell(value: Any) -> Any:
    """Strings are escaped; numbers, dates and None pass through as real typed values."""
    if isinstance(value, str):
        return safe_text(value)
    return value
