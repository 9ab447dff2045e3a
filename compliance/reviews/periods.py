"""Reporting periods written as `YYYYQn` (calendar quarters, UTC) or `YYYY-MM` (months)."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

_QUARTER = re.compile(r"^(?P<year>\d{4})\s*-?\s*Q(?P<quarter>[1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(?P<year>\d{4})-(?P<month>0[1-9]|1[0-2])$")
MIN_YEAR, MAX_YEAR = 2000, 2100


class PeriodError(ValueError):
    """The text is not a period we understand; the message says what is expected."""


@dataclass(frozen=True, order=True)
class Period:
    start: datetime.datetime  # inclusive, UTC
    end: datetime.datetime  # exclusive, UTC
    label: str  # canonical text: 2026Q1 or 2026-03

    def __str__(self) -> str:
        return self.label

    @property
    def last_day(self) -> datetime.date:
        return (self.end - datetime.timedelta(days=1)).date()

    @property
    def title(self) -> str:
        """Readable: 'Q1 2026 (1 Jan - 31 Mar 2026)'."""
        span = f"{self.start:%-d %b} - {self.last_day:%-d %b %Y}"
        if "Q" in self.label:
            return f"Q{self.label[-1]} {self.label[:4]} ({span})"
        return f"{self.start:%B %Y} ({span})"

    def contains(self, moment: datetime.datetime) -> bool:
        return self.start <= moment < self.end

    def previous(self) -> Period:
        return period_containing(self.start - datetime.timedelta(days=1), monthly="Q" not in self.label)


def _utc(year: int, month: int) -> datetime.datetime:
    return datetime.datetime(year, month, 1, tzinfo=datetime.UTC)


def quarter(year: int, number: int) -> Period:
    start = _utc(year, 3 * (number - 1) + 1)
    end = _utc(year + 1, 1) if number == 4 else _utc(year, 3 * number + 1)
    return Period(start=start, end=end, label=f"{year}Q{number}")


def month(year: int, number: int) -> Period:
    end = _utc(year + 1, 1) if number == 12 else _utc(year, number + 1)
    return Period(start=_utc(year, number), end=end, label=f"{year}-{number:02d}")


def parse_period(text: str) -> Period:
    """`2026Q1` (also `2026-Q1`, `2026 q1`) or `2026-03`; anything else raises PeriodError."""
    cleaned = (text or "").strip()
    if match := _QUARTER.match(cleaned):
        year, number = int(match["year"]), int(match["quarter"])
        builder = quarter
    elif match := _MONTH.match(cleaned):
        year, number = int(match["year"]), int(match["month"])
        builder = month
    else:
        raise PeriodError(f"“{cleaned[:40]}” is not a period: write a quarter as YYYYQn (e.g. 2026Q1) or a month as YYYY-MM.")
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise PeriodError(f"The year must be between {MIN_YEAR} and {MAX_YEAR}.")
    return builder(year, number)


def period_containing(moment: datetime.datetime, *, monthly: bool = False) -> Period:
    moment = moment.astimezone(datetime.UTC)
    if monthly:
        return month(moment.year, moment.month)
    return quarter(moment.year, (moment.month - 1) // 3 + 1)


def last_quarters(period: Period, count: int) -> list[Period]:
    """`count` quarters ending with the one `period` starts in, oldest first."""
    current = period_containing(period.start)
    result = [current]
    while len(result) < count:
        result.append(result[-1].previous())
    return list(reversed(result))
