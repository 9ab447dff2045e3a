import datetime

import pytest

from compliance.reviews.periods import PeriodError, last_quarters, parse_period

UTC = datetime.UTC


@pytest.mark.parametrize("text", ["2026Q1", "2026q1", "2026-Q1", " 2026 Q1 "])
def test_a_quarter_parses_to_its_utc_start_and_exclusive_end(text):
    period = parse_period(text)

    assert period.label == "2026Q1"
    assert period.start == datetime.datetime(2026, 1, 1, tzinfo=UTC)
    assert period.end == datetime.datetime(2026, 4, 1, tzinfo=UTC)


def test_the_fourth_quarter_ends_on_new_year():
    assert parse_period("2026Q4").end == datetime.datetime(2027, 1, 1, tzinfo=UTC)


def test_a_month_parses_too():
    period = parse_period("2026-12")
    assert (period.start.month, period.end.year, period.end.month) == (12, 2027, 1)


@pytest.mark.parametrize("text", ["", "2026Q5", "2026Q0", "Q1 2026", "26Q1", "2026-13", "1999Q1", "=HYPERLINK(1)"])
def test_anything_else_is_refused_with_a_readable_error(text):
    with pytest.raises(PeriodError, match=r"YYYYQn|year"):
        parse_period(text)


def test_last_quarters_walk_back_across_years():
    assert [p.label for p in last_quarters(parse_period("2026Q2"), 4)] == ["2025Q3", "2025Q4", "2026Q1", "2026Q2"]
