"""The plain structure every report builder returns and every renderer (HTML, PDF, Excel) reads.

A builder computes numbers with set-based queries and fills a `ReportDocument`; renderers never
query the database. A table carries its first rows (`top`, what the HTML preview and the PDF
show) and a factory for every row (`all_rows`, streamed into the Excel workbook only), so the
PDF path never loads the full detail into memory.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.safestring import SafeString

from compliance.reviews.periods import Period

# Rows of each detail table in the PDF and the preview; the workbook has every row. At ~25 rows a
# table stays on one A4 page, and WeasyPrint renders ~5 pages/s.
TOP_ROWS = 25

# Narrowest share (in Excel characters) a column of this kind gets in the PDF: "2026-11-24 21:43" on one line.
PDF_MIN_WIDTH = {"datetime": 21, "date": 15, "int": 9}

Cell = str | int | float | datetime.date | datetime.datetime | None


@dataclass(frozen=True)
class Column:
    title: str
    kind: str = "text"  # text | int | percent | date | datetime
    width: int = 18  # Excel column width (characters)
    in_pdf: bool = True  # False: workbook only (e.g. e-mail next to the name, to keep PDF tables readable)
    max_chars: int = 160  # text is cut here in the PDF and the preview (the workbook keeps all of it)


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    top: list[tuple[Cell, ...]]
    total: int
    all_rows: Callable[[], Iterable[Sequence[Cell]]] | None = None  # None: `top` is every row
    note: str = ""

    @property
    def pdf_columns(self) -> list[Column]:
        return [c for c in self.columns if c.in_pdf]

    @property
    def pdf_widths(self) -> list[tuple[Column, int]]:
        """PDF columns with their share of the page width in percent (fixed table layout: WeasyPrint
        skips measuring every cell's content, which is most of the render time of auto layout)."""
        columns = self.pdf_columns
        weights = [max(c.width, PDF_MIN_WIDTH.get(c.kind, 0)) for c in columns]
        total = sum(weights) or 1
        return [(c, max(3, round(100 * w / total))) for c, w in zip(columns, weights, strict=True)]

    @property
    def truncated(self) -> bool:
        return self.total > len(self.top)

    def rows(self) -> Iterable[Sequence[Cell]]:
        return self.all_rows() if self.all_rows is not None else self.top


def table(key: str, title: str, columns: list[Column], rows: list[tuple[Cell, ...]], note: str = "") -> Table:
    """A table small enough to keep whole (summary tables)."""
    return Table(key=key, title=title, columns=columns, top=rows, total=len(rows), note=note)


@dataclass(frozen=True)
class Kpi:
    label: str
    value: str
    note: str = ""
    tone: str = ""  # good | warn | bad | "" (neutral)


@dataclass
class Section:
    key: str
    title: str
    intro: str = ""
    kpis: list[Kpi] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)
    chart: SafeString | None = None


@dataclass
class ReportDocument:
    kind: str
    title: str
    period: Period
    generated_at: datetime.datetime
    generator: str
    chain_head: str
    accounts: list[str]
    sections: list[Section]
    # Key figures by name: the cover, tests and e-mails read them without parsing sections.
    figures: dict[str, Any] = field(default_factory=dict)

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)


def percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def fmt_percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}%"
