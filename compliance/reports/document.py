"""The plain structure every report builder returns and every renderer (HTML, PDF, Excel) reads.

A builder computes numbers with set-based queries and fills a `ReportDocument`; renderers never
query the database. A table carries its first rows (`top`, what the HTML preview and the PDF
show) and a factory for every row (`all_rows`, streamed into the Excel workbook only), so the
PDF path never loads the full detail into memory.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.safestring import SafeString

from compliance.reviews.periods import Period

# Rows of each detail table in the PDF and the preview; the workbook has every row. At ~25 rows a
# table stays on one A4 page, and WeasyPrint renders ~5 pages/s.
TOP_ROWS = 25

# Narrowest share (in Excel characters) a column of this kind gets in the PDF: "2026-11-24 21:43" on one line.
PDF_MIN_WIDTH = {"datetime": 21, "date": 15, "int": 9}
# Header words never break (report.css wraps headers at spaces only), so a column is at least as wide
# as its longest title word: A4 text width of report.css (210 - 2 x 16 mm), the average advance of a
# 7 pt bold DejaVu Sans letter (0.7 em) on the rendered headers, and the cell's side padding.
PDF_TEXT_WIDTH_MM = 178.0
HEADER_LETTER_MM = 1.75
CELL_PADDING_MM = 3.8 + 1.2  # 2 x 1.9 mm of report.css, and 1.2 mm lost when shares round to whole percent
# Content that must not break inside, in mm of 7.5 pt DejaVu Sans (a digit is 1.68 mm): a date
# "2026-11-27" (a date-time wraps before its time), a number up to "99,999", an id such as
# "A.5.15" or "CC6.1" in bold, which never wraps at all.
KIND_CONTENT_MM = {"datetime": 16.5, "date": 16.5, "int": 10.0, "percent": 10.0, "id": 11.5}
# Body words the PDF shows stay whole too, up to LONGEST_WHOLE_WORD letters of ~1.75 mm ("Compton"
# is 12 mm at 7.5 pt); a longer token (a URL, an e-mail address, a hash) may break inside rather
# than take the whole page width.
BODY_LETTER_MM = 1.75
LONGEST_WHOLE_WORD = 16
_WORD_BREAKS = re.compile(r"[\s/-]+")  # where a line may break anyway

Cell = str | int | float | datetime.date | datetime.datetime | None


@dataclass(frozen=True)
class Column:
    title: str
    kind: str = "text"  # text | int | percent | date | datetime | id (a reference such as a control id: never wraps)
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
        indexes = [i for i, c in enumerate(self.columns) if c.in_pdf]
        floors = [_floor_percent(c, self._longest_word(i, c)) for i, c in zip(indexes, columns, strict=True)]
        shares = _shares_with_floors(weights, floors)
        return [(c, max(3, round(share))) for c, share in zip(columns, shares, strict=True)]

    def _longest_word(self, index: int, column: Column) -> int:
        """Letters of the longest word the PDF shows in this column, capped at LONGEST_WHOLE_WORD."""
        longest = 0
        for row in self.top:
            value = row[index] if index < len(row) else None
            if isinstance(value, str):
                words = _WORD_BREAKS.split(value[: column.max_chars])
                longest = max(longest, max((len(w) for w in words), default=0))
                if longest >= LONGEST_WHOLE_WORD:
                    return LONGEST_WHOLE_WORD
        return longest

    @property
    def truncated(self) -> bool:
        return self.total > len(self.top)

    def rows(self) -> Iterable[Sequence[Cell]]:
        return self.all_rows() if self.all_rows is not None else self.top


def _floor_percent(column: Column, body_letters: int) -> float:
    """The narrowest share of the page width that keeps the column's title words, its body words
    (up to LONGEST_WHOLE_WORD letters) and an id or a date whole."""
    letters = max((len(word) for word in column.title.split()), default=0)
    content = max(letters * HEADER_LETTER_MM, body_letters * BODY_LETTER_MM, KIND_CONTENT_MM.get(column.kind, 0.0))
    return 100 * (content + CELL_PADDING_MM) / PDF_TEXT_WIDTH_MM


def _shares_with_floors(weights: list[int], floors: list[float]) -> list[float]:
    """Shares (percent) proportional to `weights`, except that no column falls below its floor: a
    column held at its floor gives up nothing, the others share what remains in proportion. Floors
    that together exceed the page shrink alike (too many columns: some words will break)."""
    if sum(floors) > 100:
        floors = [100 * f / sum(floors) for f in floors]
    fixed: dict[int, float] = {}
    while True:
        free = [i for i in range(len(weights)) if i not in fixed]
        room = 100 - sum(fixed.values())
        total = sum(weights[i] for i in free) or 1
        shares = {i: room * weights[i] / total for i in free}
        short = {i: floors[i] for i in free if shares[i] < floors[i]}
        if not short or len(short) == len(free):
            shares.update(short)
            return [fixed.get(i, shares.get(i, 0.0)) for i in range(len(weights))]
        fixed.update(short)


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


@dataclass(frozen=True)
class SignOff:
    """One access review's sign-off, printed on the cover of the reports that rest on it."""

    review: str
    status: str
    reviewers: list[str]  # who decided its entries, with their role
    signed_off_by: str
    signed_off_at: datetime.datetime | None
    second_approver: str  # a name, or "not required" / "required, not yet given"
    second_approved_at: datetime.datetime | None


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
    figures: Mapping[str, Any] = field(default_factory=dict)
    chain_seq: int = 0  # the audit entry number whose hash is chain_head (0: empty chain)
    sign_offs: list[SignOff] = field(default_factory=list)
    pdf_rows: int = TOP_ROWS  # rows per table the PDF shows (the cover says so)

    @property
    def period_span(self) -> str:
        return period_span(self.period)

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)


def percent(part: int | None, whole: int | None) -> float | None:
    """None when there is nothing to divide by, or no data at all (a figure without history)."""
    return round(100.0 * part / whole, 1) if whole and part is not None else None


def fmt_percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}%"


def period_span(period: Period) -> str:
    """The period with its exact, half-open end: evidence at 31 Mar 23:59:59.5 is in Q1, at 1 Apr 00:00 it is not."""
    return (f"{period.start:%-d %b %Y %H:%M} UTC up to {period.end:%-d %b %Y %H:%M} UTC, end excluded "
            f"(last day {period.last_day:%-d %b %Y})")
