"""One data build, every file of a report: the archival PDF and the evidence bundle.

A PDF artifact carries its own evidence: PDF/A-3b with the Excel workbook (every row) and a
`manifest.json` embedded as associated files. A ZIP artifact (the evidence bundle) holds that PDF,
the same workbook, one CSV per table and a `manifest.json` naming every other file with its size
and SHA-256. Everything comes from the one `ReportDocument`, so the audit chain head, the period
and the figures are the same in every file.

1. `write_tables` renders the workbook; when asked for CSVs too, each table's rows are read once
   (a lazy table's factory runs once) and every row goes to the workbook sheet and the CSV in the
   same pass, so nothing is held in memory and the two cannot disagree.
2. `embedded_pdf` renders the PDF with the workbook and a manifest of what it embeds.
3. `write_bundle` zips the PDF, the workbook, the CSVs and the bundle's manifest.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import hashlib
import json
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from django.utils.text import slugify

from compliance.reports.document import Cell, ReportDocument, Table
from compliance.reports.models import ReportFormat
from compliance.reports.pdf import EmbeddedFile, render_pdf
from compliance.reports.xlsx import render_xlsx
from compliance.spreadsheet import safe_cell
from openclaw_web import PRODUCT_NAME, __version__

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
PDF_TYPE = "application/pdf"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv"
JSON_TYPE = "application/json"


@dataclasses.dataclass(frozen=True)
class FileEntry:
    """One file as the manifest names it."""

    name: str
    size: int
    sha256: str
    media_type: str
    table: str = ""  # CSVs: "<section> / <table>", the workbook sheet holding the same rows
    rows: int | None = None  # CSVs: data rows, header excluded

    def as_json(self) -> dict[str, Any]:
        found = {"name": self.name, "size": self.size, "sha256": self.sha256, "media_type": self.media_type}
        if self.table:
            found |= {"table": self.table, "rows": self.rows}
        return found


def describe(path: Path, *, name: str, media_type: str, table: str = "", rows: int | None = None) -> FileEntry:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return FileEntry(name=name, size=path.stat().st_size, sha256=digest.hexdigest(), media_type=media_type,
                     table=table, rows=rows)


def csv_value(value: Cell) -> Any:
    """A CSV cell: the workbook's rules (strings through `safe_cell`, so no cell is a formula when
    a spreadsheet opens the file), times in UTC as ISO 8601, nothing for None."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC).replace(tzinfo=None)
        return value.replace(microsecond=0).isoformat() + "Z"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return "" if value is None else safe_cell(value)


class _CsvTee:
    """A table's row factory for the workbook that writes each row to the table's CSV on its way.

    It can be read once: a second read would run the table's queries again and could return other
    rows than the CSV holds, which is what one data build is here to prevent.
    """

    def __init__(self, table: Table, path: Path) -> None:
        self.table, self.path = table, path
        self.rows: int | None = None
        self._started = False

    def __call__(self) -> Iterator[Sequence[Cell]]:
        if self._started:
            raise RuntimeError(f"the rows of table {self.table.key!r} were read twice in one generation")
        self._started = True
        return self._rows()

    def _rows(self) -> Iterator[Sequence[Cell]]:
        # utf-8-sig: Excel reads a BOM-less CSV as the local code page and mangles accents.
        with self.path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([csv_value(column.title) for column in self.table.columns])
            count = 0
            for row in self.table.rows():
                writer.writerow([csv_value(value) for value in row])
                count += 1
                yield row
        self.rows = count

    def finish(self) -> None:
        """Write the CSV of a table the workbook did not read (or stopped reading)."""
        if self.rows is None:
            self._started = False
            for _ in self():
                pass


@dataclasses.dataclass
class Tables:
    workbook: FileEntry
    csvs: list[FileEntry]


def write_tables(document: ReportDocument, folder: Path, *, basename: str, with_csv: bool) -> Tables:
    """Step 1: the workbook (and, with_csv, one CSV per table under folder/tables/)."""
    tees: list[tuple[str, str, _CsvTee]] = []
    sections = []
    for section in document.sections:
        tables = []
        for table in section.tables:
            if not with_csv:
                tables.append(table)
                continue
            name = f"tables/{len(tees) + 1:02d}-{slugify(section.key)}-{slugify(table.key)}.csv"
            (folder / "tables").mkdir(exist_ok=True)
            tee = _CsvTee(table, folder / name)
            tees.append((name, f"{section.title} / {table.title}", tee))
            tables.append(dataclasses.replace(table, all_rows=tee))
        sections.append(dataclasses.replace(section, tables=tables))
    workbook = folder / f"{basename}.xlsx"
    render_xlsx(dataclasses.replace(document, sections=sections), workbook)
    csvs = []
    for name, title, tee in tees:
        tee.finish()
        csvs.append(describe(folder / name, name=name, media_type=CSV_TYPE, table=title, rows=tee.rows))
    return Tables(workbook=describe(workbook, name=workbook.name, media_type=XLSX_TYPE), csvs=csvs)


def manifest(document: ReportDocument, *, parameters: dict[str, Any], files: Sequence[FileEntry]) -> bytes:
    period = document.period
    content = {
        "manifest_version": MANIFEST_VERSION,
        "product": {"name": PRODUCT_NAME, "version": __version__},
        "kind": document.kind,
        "title": document.title,
        "period": {"label": period.label, "start": period.start.isoformat(), "end": period.end.isoformat(),
                   "end_is_exclusive": True},
        "accounts": document.accounts,
        "parameters": parameters,
        "generator": document.generator,
        "generated_at": document.generated_at.isoformat(),
        "chain_head": document.chain_head,
        "chain_seq": document.chain_seq,
        "files": [entry.as_json() for entry in files],
    }
    return json.dumps(content, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"


def embedded_pdf(document: ReportDocument, workbook: Path, *, parameters: dict[str, Any]) -> bytes:
    """Step 2: the PDF, carrying the workbook and a manifest of the workbook."""
    entry = describe(workbook, name=workbook.name, media_type=XLSX_TYPE)
    return render_pdf(document, attachments=[
        EmbeddedFile(workbook.name, workbook.read_bytes(), "Every row of every table of this report (Excel workbook).",
                     relationship="Data"),
        EmbeddedFile(MANIFEST, manifest(document, parameters=parameters, files=[entry]),
                     "Report, period, audit chain head and the SHA-256 of the embedded workbook.",
                     relationship="Supplement"),
    ])  # fmt: skip


def write_pdf(document: ReportDocument, out: IO[bytes], *, parameters: dict[str, Any], basename: str) -> None:
    with tempfile.TemporaryDirectory(prefix="openclaw-report-") as folder:
        tables = write_tables(document, Path(folder), basename=basename, with_csv=False)
        out.write(embedded_pdf(document, Path(folder) / tables.workbook.name, parameters=parameters))


def write_bundle(document: ReportDocument, out: IO[bytes], *, parameters: dict[str, Any], basename: str) -> bytes:
    """Steps 1-3 into `out` (a seekable binary file). Returns the bundle's manifest."""
    with tempfile.TemporaryDirectory(prefix="openclaw-bundle-") as name:
        folder = Path(name)
        tables = write_tables(document, folder, basename=basename, with_csv=True)
        pdf = folder / f"{basename}.pdf"
        pdf.write_bytes(embedded_pdf(document, folder / tables.workbook.name, parameters=parameters))
        files = [describe(pdf, name=pdf.name, media_type=PDF_TYPE), tables.workbook, *tables.csvs]
        content = manifest(document, parameters=parameters, files=files)
        # The zip's timestamps are the report's own, so the members say when the evidence was taken.
        t = document.generated_at.astimezone(datetime.UTC)
        stamp = (t.year, t.month, t.day, t.hour, t.minute, t.second)
        with zipfile.ZipFile(out, "w") as archive:
            for entry in files:
                # PDF and workbook are compressed already; deflating them again costs time, saves nothing.
                deflate = entry.media_type == CSV_TYPE
                with (folder / entry.name).open("rb") as source, archive.open(_member(entry.name, stamp, deflate), "w") as target:
                    for chunk in iter(lambda: source.read(1 << 20), b""):
                        target.write(chunk)
            archive.writestr(_member(MANIFEST, stamp, True), content)
    return content


def _member(name: str, stamp: tuple[int, int, int, int, int, int], deflate: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16  # rw-r--r-- when unpacked (0 would leave it to the unzip tool)
    return info


def write_artifact(fmt: str, document: ReportDocument, out: IO[bytes], *, parameters: dict[str, Any],
                   basename: str) -> None:
    """The file of one artifact format from one document."""
    if fmt == ReportFormat.ZIP:
        write_bundle(document, out, parameters=parameters, basename=basename)
    elif fmt == ReportFormat.PDF:
        write_pdf(document, out, parameters=parameters, basename=basename)
    else:
        render_xlsx(document, out)
