"""Spreadsheet-safe text. Every string written to an Excel or CSV export goes through
`safe_cell`, so no cell is a formula or becomes one when a person edits it (CWE-1236)."""

from __future__ import annotations

from typing import Any

# Characters that make Excel, LibreOffice or Sheets treat text as a formula or a DDE call,
# also after leading whitespace/control characters are stripped on edit.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\x00")
# Control characters XML 1.0 forbids (openpyxl refuses them), deleted in one C-level pass.
_DROP_ILLEGAL_XML = str.maketrans(dict.fromkeys(set(range(0x20)) - {0x09, 0x0A, 0x0D}))


def safe_text(value: str) -> str:
    cleaned = value.translate(_DROP_ILLEGAL_XML)
    if value.startswith(_FORMULA_TRIGGERS) or cleaned.lstrip().startswith(_FORMULA_TRIGGERS):
        return "'" + cleaned
    return cleaned


def safe_cell(value: Any) -> Any:
    """Strings are escaped; numbers, dates and None pass through as real typed values."""
    if isinstance(value, str):
        return safe_text(value)
    return value
