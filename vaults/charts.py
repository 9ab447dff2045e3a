"""Server-side SVG charts: the same markup on a page and in a WeasyPrint PDF.

Pure string building, no JavaScript and no chart library: three small chart shapes do not justify
a dependency, and owning the markup lets us guarantee that every label is escaped (vault names and
item titles are attacker-controlled) and that colours are explicit attributes (no CSS variables,
no `style` attributes, which the CSP forbids and WeasyPrint may not resolve).

Every chart is an `<svg class="chart" role="img" aria-label=...>` with a `<title>`, a `viewBox`
so it scales to 100 % of its container, and intrinsic width/height for renderers that need them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

FONT_FAMILY = "Inter, 'DejaVu Sans', Arial, sans-serif"
INK = "#0f172a"
MUTED = "#64748b"
GRID = "#e2e8f0"
AXIS = "#cbd5e1"
LINE = "#1e3a8a"

# Score bands, matching the pills: healthy >= 90, needs attention 60-89, at risk < 60.
BAND_HEALTHY = 90
BAND_ATTENTION = 60
BAND_FILLS = {"healthy": "#dcfce7", "needs-attention": "#fef3c7", "at-risk": "#fee2e2"}
BAND_STROKES = {"healthy": "#15803d", "needs-attention": "#b45309", "at-risk": "#b91c1c"}

# Distinguishable on white and in greyscale print (Tableau 10, darkened for contrast).
PALETTE = (
    "#2563eb", "#dc2626", "#d97706", "#059669", "#7c3aed",
    "#0891b2", "#db2777", "#4b5563", "#65a30d", "#9a3412",
)

# Characters XML 1.0 forbids even when escaped: a title carrying them would make the whole SVG
# unparseable for WeasyPrint (browsers are lenient; the PDF renderer is not).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

Day = date | datetime

# Bars link only to our own pages or to http(s): never `javascript:` or `data:`.
_SAFE_HREF = re.compile(r"^(/(?!/)|https?://)", re.IGNORECASE)


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence[tuple[Day, float]]
    color: str | None = None


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    href: str | None = None
    color: str | None = None
    value_label: str | None = None


def band_of(score: float | None) -> str:
    """The band name used for pills and chart colours ("" when there is no score)."""
    if score is None:
        return ""
    if score >= BAND_HEALTHY:
        return "healthy"
    if score >= BAND_ATTENTION:
        return "needs-attention"
    return "at-risk"


def _clean(text: object, limit: int | None = None) -> str:
    """Plain text safe to put in XML once escaped: invalid characters removed, shortened."""
    value = _XML_INVALID.sub("", str(text))
    value = " ".join(value.split())
    if limit is not None and len(value) > limit:
        value = value[: max(limit - 1, 1)].rstrip() + "…"
    return value


def _esc(text: object, limit: int | None = None) -> str:
    return escape(_clean(text, limit))


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _fmt_value(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _open(width: int, height: int, title: str) -> list[str]:
    label = _esc(title, 300)
    return [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{label}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'preserveAspectRatio="xMidYMid meet" font-family="{FONT_FAMILY}" font-size="11">',
        f"<title>{label}</title>",
    ]


def _close(parts: list[str]) -> SafeString:
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text went through _esc


def _empty(width: int, height: int, title: str, message: str) -> SafeString:
    parts = _open(width, height, title)
    parts.append(
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" rx="8" fill="#f8fafc" stroke="{GRID}"/>'
        f'<text x="{width / 2:.0f}" y="{height / 2:.0f}" text-anchor="middle" fill="{MUTED}" '
        f'font-size="13">{_esc(message)}</text>'
    )
    return _close(parts)


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^k at or above `value` (at least 1): round axis maxima."""
    if value <= 1:
        return 1
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value:
            return candidate
    return 10 ** (exponent + 1)


def nice_ticks(value: float, most: int = 5) -> tuple[float, int]:
    """A round step (1, 2 or 5 x 10^k, at least 1) and how many of them cover `value` in at most
    `most` ticks: axis labels read 0, 50, 100 ... instead of 0, 62.5, 125."""
    step = 1.0
    while value / step > most:
        for factor in (2, 2.5, 2):  # 1 -> 2 -> 5 -> 10 -> 20 ...
            step *= factor
            if value / step <= most:
                break
    return step, max(1, math.ceil(value / step))


def _as_datetime(day: Day) -> datetime:
    return day if isinstance(day, datetime) else datetime(day.year, day.month, day.day)


def _timeline(days: Sequence[Day], x0: float, x1: float) -> Callable[[Day], float]:
    """Map dates to x positions proportionally to elapsed time (uneven snapshots stay honest)."""
    stamps = [_as_datetime(d).timestamp() for d in days]
    low, high = min(stamps), max(stamps)
    if high == low:
        return lambda _day: (x0 + x1) / 2
    return lambda day: x0 + (_as_datetime(day).timestamp() - low) / (high - low) * (x1 - x0)


def _date_ticks(days: Sequence[Day], limit: int = 6) -> list[Day]:
    unique = sorted({_as_datetime(d): d for d in days}.items())
    if len(unique) <= limit:
        return [d for _, d in unique]
    step = (len(unique) - 1) / (limit - 1)
    return [unique[round(i * step)][1] for i in range(limit)]


def _date_label(day: Day, span_days: float) -> str:
    return day.strftime("%b %Y") if span_days > 400 else day.strftime("%d %b").lstrip("0")


def _time_label(moment: datetime, *, one_day: bool) -> str:
    return moment.strftime("%H:%M") if one_day else f"{moment.day} {moment:%b %H:%M}"


def _x_tick_labels(days: Sequence[Day]) -> list[tuple[Day, str]]:
    """Ticks and their labels, no label twice (four snapshots taken on 27 Nov once read
    "27 Nov" four times):

    1. label the evenly spread ticks with dates;
    2. if two share a date and the points carry times, label with times instead ("09:15", or
       "27 Nov 09:15" when the ticks span several days);
    3. drop any tick whose label is still taken (same minute, same month on a long span)."""
    if not days:
        return []
    ticks = _date_ticks(days)
    stamps = [_as_datetime(d) for d in days]
    span = (max(stamps) - min(stamps)).days
    labels = [_date_label(day, span) for day in ticks]
    if len(set(labels)) < len(labels) and all(isinstance(day, datetime) for day in ticks):
        one_day = len({_as_datetime(day).date() for day in ticks}) == 1
        labels = [_time_label(_as_datetime(day), one_day=one_day) for day in ticks]
    seen: set[str] = set()
    kept = []
    for day, label in zip(ticks, labels, strict=True):
        if label not in seen:
            seen.add(label)
            kept.append((day, label))
    return kept


def _x_axis(parts: list[str], days: Sequence[Day], x_of: Callable[[Day], float], y: float) -> None:
    for day, label in _x_tick_labels(days):
        parts.append(
            f'<text x="{_num(x_of(day))}" y="{_num(y + 16)}" text-anchor="middle" fill="{MUTED}">'
            f"{_esc(label)}</text>"
        )


def score_trend(
    points: Sequence[tuple[Day, float]], *, title: str, width: int = 720, height: int = 220
) -> SafeString:
    """A 0-100 score over time on top of the three band backgrounds."""
    if not points:
        return _empty(width, height, title, "No health snapshots yet")
    left, right, top, bottom = 36, 14, 10, 26
    plot_h = height - top - bottom

    def y_of(score: float) -> float:
        return top + (100 - max(0.0, min(100.0, score))) / 100 * plot_h

    parts = _open(width, height, title)
    for band, high, low in (("healthy", 100, BAND_HEALTHY), ("needs-attention", BAND_HEALTHY, BAND_ATTENTION),
                            ("at-risk", BAND_ATTENTION, 0)):
        parts.append(
            f'<rect x="{left}" y="{_num(y_of(high))}" width="{width - left - right}" '
            f'height="{_num(y_of(low) - y_of(high))}" fill="{BAND_FILLS[band]}"/>'
        )
    for tick in (0, BAND_ATTENTION, BAND_HEALTHY, 100):
        y = y_of(tick)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{_num(y)}" y2="{_num(y)}" stroke="#ffffff" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{_num(y + 4)}" text-anchor="end" fill="{MUTED}">{tick}</text>'
        )
    days = [day for day, _ in points]
    x_of = _timeline(days, left + 8, width - right - 8)
    coords = [(x_of(day), y_of(score)) for day, score in points]
    if len(coords) > 1:
        path = " ".join(f"{_num(x)},{_num(y)}" for x, y in coords)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{LINE}" stroke-width="2.25" stroke-linejoin="round"/>')
    for (day, score), (x, y) in zip(points, coords, strict=True):
        band = band_of(score)
        parts.append(
            f'<circle cx="{_num(x)}" cy="{_num(y)}" r="3.5" fill="#ffffff" stroke="{BAND_STROKES[band]}" stroke-width="2">'
            f"<title>{_esc(day.strftime('%Y-%m-%d'))}: {_esc(_fmt_value(score))}</title></circle>"
        )
    _x_axis(parts, days, x_of, height - bottom)
    return _close(parts)


def multi_line(series: Sequence[Series], *, title: str, width: int = 720, height: int = 240) -> SafeString:
    """Counts over time, one line per series, with an in-SVG legend (PDFs get it too)."""
    days = [day for s in series for day, _ in s.points]
    if not days:
        return _empty(width, height, title, "No history yet")
    colors = [s.color or PALETTE[i % len(PALETTE)] for i, s in enumerate(series)]
    legend_rows = _legend_layout([s.label for s in series], width - 20)
    legend_h = 18 * len(legend_rows) + 6
    left, right, top, bottom = 40, 14, 10, 26 + legend_h
    plot_h = height - top - bottom
    step, ticks = nice_ticks(max(value for s in series for _, value in s.points))
    peak = step * ticks

    def y_of(value: float) -> float:
        return top + (1 - value / peak) * plot_h

    parts = _open(width, height, title)
    for i in range(ticks + 1):
        tick = step * i
        y = y_of(tick)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{_num(y)}" y2="{_num(y)}" stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{_num(y + 4)}" text-anchor="end" fill="{MUTED}">{_esc(_fmt_value(tick))}</text>'
        )
    x_of = _timeline(days, left + 8, width - right - 8)
    for s, color in zip(series, colors, strict=True):
        coords = [(x_of(day), y_of(value)) for day, value in s.points]
        if len(coords) > 1:
            path = " ".join(f"{_num(x)},{_num(y)}" for x, y in coords)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2" stroke-linejoin="round"/>')
        for (day, value), (x, y) in zip(s.points, coords, strict=True):
            parts.append(
                f'<circle cx="{_num(x)}" cy="{_num(y)}" r="2.5" fill="{color}">'
                f"<title>{_esc(s.label, 120)}, {_esc(day.strftime('%Y-%m-%d'))}: {_esc(_fmt_value(value))}</title></circle>"
            )
    _x_axis(parts, days, x_of, height - bottom)
    _legend(parts, legend_rows, colors, x0=10, y0=height - legend_h + 8)
    return _close(parts)


_LEGEND_LABEL_CHARS = 32


def _legend_layout(labels: Sequence[str], width: float) -> list[list[tuple[int, str, float]]]:
    """Flow legend entries into rows; widths are estimated (about 6.3 px per 11 px character)."""
    rows: list[list[tuple[int, str, float]]] = [[]]
    x = 0.0
    for index, label in enumerate(labels):
        text = _clean(label, _LEGEND_LABEL_CHARS)
        entry_w = 16 + len(text) * 6.3 + 18
        if rows[-1] and x + entry_w > width:
            rows.append([])
            x = 0.0
        rows[-1].append((index, text, x))
        x += entry_w
    return rows


def _legend(parts: list[str], rows: list[list[tuple[int, str, float]]], colors: Sequence[str], x0: float, y0: float) -> None:
    for row_index, row in enumerate(rows):
        y = y0 + row_index * 18
        for index, text, x in row:
            parts.append(
                f'<rect x="{_num(x0 + x)}" y="{_num(y)}" width="10" height="10" rx="2" fill="{colors[index]}"/>'
                f'<text x="{_num(x0 + x + 15)}" y="{_num(y + 9)}" fill="{INK}">{_esc(text)}</text>'
            )


def horizontal_bars(
    bars: Sequence[Bar],
    *,
    title: str,
    max_value: float | None = None,
    width: int = 720,
    row_height: int = 26,
    label_chars: int = 40,
) -> SafeString:
    """Labelled bars, longest value first as given; a bar with `href` links to its page."""
    if not bars:
        return _empty(width, 80, title, "Nothing to show")
    height = row_height * len(bars) + 8
    label_w = min(int(label_chars * 6.6) + 12, width // 2)
    value_w = 48
    track = width - label_w - value_w - 8
    peak = max_value if max_value else nice_ceiling(max(b.value for b in bars))
    parts = _open(width, height, title)
    for i, bar in enumerate(bars):
        y = 4 + i * row_height
        length = max(0.0, min(1.0, bar.value / peak)) * track if peak else 0.0
        color = bar.color or PALETTE[0]
        shown = bar.value_label if bar.value_label is not None else _fmt_value(bar.value)
        row = (
            f"<title>{_esc(bar.label, 500)}: {_esc(shown)}</title>"
            f'<text x="{label_w - 10}" y="{_num(y + row_height / 2 + 4)}" text-anchor="end" fill="{INK}" font-size="12">'
            f"{_esc(bar.label, label_chars)}</text>"
            f'<rect x="{label_w}" y="{y + 5}" width="{track}" height="{row_height - 10}" rx="3" fill="#f1f5f9"/>'
            f'<rect x="{label_w}" y="{y + 5}" width="{_num(length)}" height="{row_height - 10}" rx="3" fill="{color}"/>'
            f'<text x="{_num(label_w + track + 8)}" y="{_num(y + row_height / 2 + 4)}" fill="{INK}" font-size="12" '
            f'font-weight="600">{_esc(shown)}</text>'
        )
        if bar.href and _SAFE_HREF.match(bar.href):
            parts.append(f'<a href="{_esc(bar.href)}">{row}</a>')
        else:
            parts.append(f"<g>{row}</g>")
    return _close(parts)
