"""Adversarial review of issue #16: the fast streamed Excel writer (compliance/xlsx_stream.py)
writes sheet XML by hand, so every character XML 1.0 forbids must be removed before it is
written: one hostile item title must not make the whole evidence workbook unreadable.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile

import openpyxl
import pytest

from compliance.xlsx_stream import Sheet, StreamingWorkbook


@pytest.mark.parametrize("title", ["Root\x01\x0bLogin", '=HYPERLINK("http://evil.example")', "Root\ufffeLogin\uffff"])
def test_a_hostile_title_leaves_the_streamed_workbook_readable(title: str) -> None:
    """C0 controls and formulas are handled by safe_cell (decoys that pass); U+FFFE / U+FFFF are
    valid in a 1Password title (JSON, PostgreSQL) but not in XML 1.0: the sheet XML is then not
    well-formed, and Excel offers to "repair" (drop) the sheet of an auditor's export."""
    out = io.BytesIO()
    with StreamingWorkbook(out) as workbook:
        workbook.write_sheet(Sheet(title="Findings", widths=[30, 10]), ["Title", "Severity"], [[title, "high"]])
    out.seek(0)
    with zipfile.ZipFile(out) as archive:
        for name in archive.namelist():
            if name.endswith(".xml"):
                ET.fromstring(archive.read(name))  # noqa: S314  # our own bytes; raises ParseError when not well-formed
    out.seek(0)
    cell = openpyxl.load_workbook(out).active["A2"].value
    assert isinstance(cell, str) and not cell.startswith("=")
