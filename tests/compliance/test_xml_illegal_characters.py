"""Characters XML 1.0 cannot hold (U+FFFE, U+FFFF, lone surrogates, C0 controls) are dropped by
every Excel writer: the streamed workbook (cells, sheet names, document properties, page header)
and openpyxl workbooks fed through safe_cell. A 1Password title may carry them (valid JSON, valid
in PostgreSQL); an auditor's export must still open without Excel "repairing" a sheet away."""

from __future__ import annotations

import io
import zipfile
from xml.etree import ElementTree as ET

import openpyxl
import pytest

from compliance.spreadsheet import safe_cell, xml_text
from compliance.xlsx_stream import DocumentProperties, Sheet, StreamingWorkbook

HOSTILE = ["Root\ufffeLogin\uffff", "Lone\ud800surrogate\udfff", "=\ufffeSUM(A1)", "\ud83d"]


def _well_formed(data: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.endswith((".xml", ".rels")):
                ET.fromstring(archive.read(name))  # noqa: S314  # our own bytes; ParseError when not well-formed


@pytest.mark.parametrize("text", HOSTILE)
def test_the_streamed_workbook_drops_them_everywhere_it_writes_text(text: str) -> None:
    out = io.BytesIO()
    props = DocumentProperties(title=text, subject=text, keywords=text)
    with StreamingWorkbook(out, props) as workbook:
        workbook.write_sheet(Sheet(title="F" + text[:20], widths=[30], header_left=text), [text], [[text, "emoji 😀 kept"]])
    _well_formed(out.getvalue())
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active
    cell = sheet["A2"].value
    assert isinstance(cell, str) and not cell.startswith("=") and cell == safe_cell(text)
    assert sheet["B2"].value == "emoji 😀 kept"  # decoy: a real astral character is not an illegal one


@pytest.mark.parametrize("text", HOSTILE)
def test_an_openpyxl_workbook_through_safe_cell_saves_well_formed(text: str) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append([safe_cell(text)])
    out = io.BytesIO()
    workbook.save(out)
    _well_formed(out.getvalue())


def test_only_the_illegal_characters_go() -> None:
    assert xml_text("a\ufffeb\uffffc\ud800d\x0be") == "abcde"
    assert xml_text("\ufffd\u202e\U0001f600\t\n") == "\ufffd\u202e\U0001f600\t\n"  # decoys: legal in XML
