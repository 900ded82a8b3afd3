"""Printed dates into :class:`datetime.date`: ISO, numeric day/month orders and month names,
with the year taken from the statement period when the line prints none."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from dualread.parsing.text import fold
from dualread.parsing.vocabulary import MONTH_NAMES

_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?$")
_NUMERIC = re.compile(r"^(\d{1,2})\s*([./-])\s*(\d{1,2})(?:\s*\2\s*(\d{2}|\d{4}))?\s*\.?$")
_DAY_MONTH_NAME = re.compile(
    r"^(\d{1,2})(?:st|nd|rd|th|er|e)?\.?[\s\-/]*([^\W\d_]{3,})\.?(?:[\s\-/,]*(\d{4}|\d{2}))?$"
)
_MONTH_NAME_DAY = re.compile(r"^([^\W\d_]{3,})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?(?:\s+(\d{4}))?$")
_YEAR_WORDS = re.compile(r"\s*(?:г\.?|года|год)$")


_MONTHS_FOLDED = {m: tuple(fold(n) for n in names) for m, names in MONTH_NAMES.items()}


def month_from_name(token: str) -> int | None:
    """Month number for a month name or abbreviation in en/de/fr/nl/ru/es/it, or None."""
    word = fold(token).rstrip(".")
    if len(word) < 3:
        return None
    found = {m for m, names in _MONTHS_FOLDED.items() if any(n.startswith(word) for n in names)}
    return found.pop() if len(found) == 1 else None


def _expand_year(year: int, period_start: dt.date | None, period_end: dt.date | None) -> int:
    """Two-digit year -> four digits: the century nearest the period, else 1970-2069."""
    if year >= 100:
        return year
    anchor = period_end or period_start
    if anchor is None:
        return 2000 + year if year < 70 else 1900 + year
    century = anchor.year - anchor.year % 100
    return min(
        (century - 100 + year, century + year, century + 100 + year),
        key=lambda y: abs(y - anchor.year),
    )


def _year_from_period(
    month: int, day: int, period_start: dt.date | None, period_end: dt.date | None
) -> dt.date | None:
    """A date printed without its year: choose the year that puts it inside the period.

    A period spanning New Year (15 Dec - 14 Jan) has two candidate years; the one that lands
    inside the period (or nearest to it) wins.
    """
    years = sorted({d.year for d in (period_start, period_end) if d is not None})
    if not years:
        return None
    if len(years) == 2 and years[1] - years[0] > 1:
        years = list(range(years[0], years[1] + 1))
    options = [d for y in years if (d := _safe_date(y, month, day)) is not None]
    if not options:
        return None
    return min(options, key=lambda d: _days_outside(d, period_start, period_end))


def _days_outside(d: dt.date, period_start: dt.date | None, period_end: dt.date | None) -> int:
    """How many days ``d`` lies outside the period (0 inside); one end alone is the period."""
    low = period_start or period_end
    high = period_end or period_start
    assert low is not None and high is not None
    return 0 if low <= d <= high else min(abs((d - low).days), abs((d - high).days))


# Bookings print a little outside the period (a card purchase posted days later, a value date
# after the statement's end); further out than this, a date was given the wrong year.
YEAR_SLIP_DAYS = 45


def year_in_period(
    date: dt.date, period_start: dt.date | None, period_end: dt.date | None
) -> dt.date:
    """``date`` with the year that puts it in the statement period, when a reader gave a date
    printed without its year the wrong one (29.12. of a statement from 28 Dec to 14 Jan read
    as next December); any other date unchanged.

    Only a date far outside the period (more than YEAR_SLIP_DAYS) whose day and month fall
    inside it (or near it) in another year is moved.
    """
    if period_start is None and period_end is None:
        return date
    if _days_outside(date, period_start, period_end) <= YEAR_SLIP_DAYS:
        return date
    moved = _year_from_period(date.month, date.day, period_start, period_end)
    if moved is None or _days_outside(moved, period_start, period_end) > YEAR_SLIP_DAYS:
        return date
    return moved


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _in_period(d: dt.date, period_start: dt.date | None, period_end: dt.date | None) -> bool:
    return (period_start is None or d >= period_start) and (period_end is None or d <= period_end)


def _numeric_date(
    first: int,
    second: int,
    separator: str,
    year_text: str | None,
    period_start: dt.date | None,
    period_end: dt.date | None,
    dayfirst: bool | None,
) -> dt.date | None:
    """D/M or M/D with an optional year. '.' always means day first (de, ru, nl ...)."""
    if separator == ".":
        dayfirst = True
    orders = [(first, second), (second, first)]  # (day, month) interpretations
    if dayfirst is False:
        orders.reverse()
    dates: list[dt.date] = []
    for day, month in orders:
        if year_text is None:
            found = _year_from_period(month, day, period_start, period_end)
        else:
            found = _safe_date(_expand_year(int(year_text), period_start, period_end), month, day)
        if found is not None:
            dates.append(found)
        if dayfirst is not None and dates:
            break  # the hint fixes the order; fall back only when it gives no valid date
    if not dates:
        return None
    in_period = [d for d in dates if _in_period(d, period_start, period_end)]
    return (in_period or dates)[0]


def parse_date(
    text: str,
    *,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
    dayfirst: bool | None = None,
) -> dt.date | None:
    """Parse a printed date, or None.

    Handles ISO, ``DD.MM.YYYY``, ``DD/MM/YY``, ``MM/DD/YYYY`` (``dayfirst=False``, or when the
    day cannot be a month), ``DD.MM.`` without a year (the year comes from the statement
    period, spanning New Year included), and month names in English, German, French, Dutch,
    Russian, Spanish and Italian (``2 okt``, ``12 Jan 2024``, ``janv.``, ``12 марта 2024 г.``).
    Without a hint, ``/`` dates are read day first unless only month-first is valid or only
    month-first falls inside the period.
    """
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().rstrip(",")
    text = _YEAR_WORDS.sub("", text)
    if not text:
        return None
    if iso := _ISO.match(text):
        return _safe_date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
    if numeric := _NUMERIC.match(text):
        first, separator, second, year_text = numeric.groups()
        return _numeric_date(
            int(first), int(second), separator, year_text, period_start, period_end, dayfirst
        )
    for pattern, day_group, month_group in ((_DAY_MONTH_NAME, 1, 2), (_MONTH_NAME_DAY, 2, 1)):
        named = pattern.match(text)
        if named is None:
            continue
        month = month_from_name(named.group(month_group))
        if month is None:
            return None
        day, year_text = int(named.group(day_group)), named.group(3)
        if year_text is None:
            return _year_from_period(month, day, period_start, period_end)
        return _safe_date(_expand_year(int(year_text), period_start, period_end), month, day)
    return None
