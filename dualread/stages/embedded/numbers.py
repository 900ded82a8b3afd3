"""How one statement writes numbers and dates, and reading them in that style.

The parsing itself is :mod:`dualread.parsing`; this module supplies the per-document
context those functions take as hints: which mark is the decimal one, whether ``03/04`` is the
3rd of April or March 4th, and which period gives a year to ``DD.MM.`` dates. Each is decided
once per document from evidence that cannot be ambiguous (``1.234,56``; ``24/07``), never per
token.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from dualread.parsing import parse_amount, parse_date

_GROUPED_AMOUNT = re.compile(r"\d{1,3}(?:([.,' \u00a0])\d{3})+([.,])\d{2}(?!\d)")
_PLAIN_AMOUNT = re.compile(r"^[-+(]?\d+([.,])\d{2}[)-]?$")
_DAY_MONTH = re.compile(r"^(\d{1,2})\.(\d{1,2})\.?$")
_SLASH_DATE = re.compile(r"^(\d{1,2})([/-])(\d{1,2})(?:\2\d{2,4})?$")
# A thousands group repeated before two final digits ("2.853.82"): a typo, only one reading.
_REPEATED_MARK = re.compile(
    r"^(?P<pre>\D*?)(?P<int>\d{1,3}(?:(?P<mark>[.,])\d{3})+)(?P=mark)(?P<frac>\d{2})(?P<post>\D*)$"
)
# Letters fused to a currency symbol ("R$", "US$", "C$", "S/."): one currency mark, which the
# normaliser reads as the symbol alone. A box (U+25A0) is a glyph the font lacks, printed where
# a currency symbol (the rupee sign) should be.
_LETTERED_SYMBOL = re.compile(r"(?<![A-Za-z])[A-Z]{1,3}(?=[$\u00a3\u00a5\u20a0-\u20cf])")
_MISSING_GLYPH = re.compile("[\u25a0\ufffd]")
_DATE_PATTERNS = (
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    re.compile(r"\b\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})(?![\d.,])"),
    re.compile(r"\b\d{1,2}\.?\s+[^\W\d_]{3,}\.?,?\s+\d{4}\b"),
    re.compile(r"\b\d{1,2}-[^\W\d_]{3,}-\d{4}\b"),  # '01-Oct-2025'
    re.compile(r"\b[^\W\d_]{3,}\.?\s+\d{1,2},?\s+\d{4}\b"),
)


@dataclass(frozen=True)
class NumberFormat:
    """Hints for the normalisers; ``None`` means the document gave no evidence."""

    decimal_comma: bool | None = None
    dayfirst: bool | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None


def detect_format(tokens: Iterable[str]) -> NumberFormat:
    """Decimal mark and day order from a document's words."""
    comma = dot = dayfirst = monthfirst = 0
    for token in tokens:
        grouped = _GROUPED_AMOUNT.search(token)
        if grouped and grouped.group(1) != grouped.group(2):
            comma += 3 * (grouped.group(2) == ",")
            dot += 3 * (grouped.group(2) == ".")
            continue
        day_month = _DAY_MONTH.match(token)
        if day_month and 1 <= int(day_month.group(1)) <= 31 and 1 <= int(day_month.group(2)) <= 12:
            continue  # "19.01." is a date, not 19 units and 1 cent
        plain = _PLAIN_AMOUNT.match(token)
        if plain:
            comma += plain.group(1) == ","
            dot += plain.group(1) == "."
        slash = _SLASH_DATE.match(token)
        if slash:
            first, second = int(slash.group(1)), int(slash.group(3))
            dayfirst += first > 12 and second <= 12
            monthfirst += second > 12 and first <= 12
    return NumberFormat(
        decimal_comma=None if comma == dot else comma > dot,
        dayfirst=None if dayfirst == monthfirst else dayfirst > monthfirst,
    )


@lru_cache(maxsize=65536)
def parse_money(text: str, numbers: NumberFormat) -> Decimal | None:
    """An amount in the document's style; also reads the '2.853.82' typo some banks print."""
    text = _MISSING_GLYPH.sub("", _LETTERED_SYMBOL.sub("", text))
    value = parse_amount(text, decimal_comma=numbers.decimal_comma)
    if value is not None:
        return value
    typo = _REPEATED_MARK.match(text.strip())
    if typo is None:
        return None
    digits = re.sub(r"\D", "", typo.group("int"))
    repaired = f"{typo.group('pre')}{digits}.{typo.group('frac')}{typo.group('post')}"
    return parse_amount(repaired, decimal_comma=False)


@lru_cache(maxsize=65536)
def parse_day(text: str, numbers: NumberFormat) -> dt.date | None:
    """A date in the document's style, with the year taken from the period when not printed."""
    return parse_date(
        text,
        period_start=numbers.period_start,
        period_end=numbers.period_end,
        dayfirst=numbers.dayfirst,
    )


def find_dates(text: str, numbers: NumberFormat) -> list[dt.date]:
    """Every full date (with a year) printed in a piece of text, left to right."""
    spans: list[tuple[int, int]] = []
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            if not any(start < match.end() and match.start() < end for start, end in spans):
                spans.append(match.span())
    dates = []
    for start, end in sorted(spans):
        parsed = parse_date(text[start:end], dayfirst=numbers.dayfirst)
        if parsed is not None:
            dates.append(parsed)
    return dates
