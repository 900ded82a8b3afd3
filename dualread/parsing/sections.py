"""Section titles: which way the bookings under a typed section go, and which titles head
tables that list no bookings at all.

Statements that group their bookings by kind ("Deposits and additions", "Checks paid", "Card
purchases") print the amounts unsigned; the section title carries the sign. Other titles head
tables of figures that are not bookings: daily balances, interest and fee breakdowns, a summary
repeating the activity. A title is a whole line: the phrase, optionally with "(continued)", a
count or a currency in parentheses, and nothing else -- a description that merely contains the
word ("Mobile deposit") is no title.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from dualread.parsing.text import fold
from dualread.parsing.vocabulary import SECTION_TITLES, SUMMARY_TITLES, TITLE_EXTRAS

Direction = Literal["credit", "debit"]

MAX_TITLE_WORDS = 8  # a longer line is prose or a booking, not a title


def _key(text: str) -> str:
    return " ".join(fold(text).replace("&", " and ").split())


_DIRECTIONS: dict[str, Direction] = {
    _key(title): direction  # type: ignore[misc]
    for direction, titles in SECTION_TITLES.items()
    for title in titles
}
_SUMMARIES = frozenset(_key(title) for title in SUMMARY_TITLES)
_EXTRAS = frozenset(_key(word) for word in TITLE_EXTRAS)


@lru_cache(maxsize=8192)
def _title_key(line: str) -> str | None:
    """The line as a title to look up, or None when it cannot be one (digits outside
    parentheses, too many words)."""
    text = re.sub(r"\([^)]*\)", " ", line)  # "(continued)", "(3)", "($)"
    if re.search(r"\d", text):
        return None  # an amount, a date or a count printed on the line: a booking or a total
    words = [w for w in re.split(r"[^\w'&]+", _key(text)) if w and w not in _EXTRAS]
    if not words or len(words) > MAX_TITLE_WORDS:
        return None
    return " ".join(words)


def section_direction(line: str) -> Direction | None:
    """The direction of money the bookings under this title go, when the line is a typed
    section's title ("Withdrawals and other debits", "Dépôts (suite)"), else None."""
    key = _title_key(line)
    return None if key is None else _DIRECTIONS.get(key)


def is_summary_title(line: str) -> bool:
    """Whether the line titles a table of figures that are not bookings ("Daily ending
    balance", "Summary of checks written", "Tagessalden")."""
    key = _title_key(line)
    return key is not None and key in _SUMMARIES
