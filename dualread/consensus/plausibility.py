"""Values no statement holds: what keeps a result from being called agreed when it is nonsense.

Readers can agree on garbage (two models answering the same invented rows, a closing balance of
0.01, ``-0.00``). Agreement is evidence only for values a statement could print, so a result that
breaks its own arithmetic, or holds a value the schema's intent or common sense rejects, is
"unresolved" with each reason listed as a dispute, however many readers gave it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from dualread.arithmetic import ArithmeticReport
from dualread.consensus.compare import CandidateLike
from dualread.statement import Statement

C = TypeVar("C", bound=CandidateLike)

MINOR_UNITS = {"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3}
MINOR_UNITS.update(dict.fromkeys(("JPY", "KRW", "ISK", "CLP", "VND", "PYG", "UGX", "XAF"), 0))
DEFAULT_MINOR_UNITS = 2  # ISO 4217: most currencies, and the unknown ones
MAX_INTEGER_DIGITS = 15  # a quadrillion: more than any account holds
ROWS_PER_PAGE_LIMIT = 150  # a page of 6 pt lines holds about 140
DATE_MARGIN = dt.timedelta(days=366)  # value dates and late bookings stay within a year


@dataclass(frozen=True)
class Implausible:
    """One reason the result cannot be trusted: the field (and row) it concerns."""

    field: str
    row: int | None
    page: int | None
    value: str | None
    reason: str


def _money_problem(value: Decimal, minor_units: int) -> str | None:
    if value.is_zero() and value.is_signed():
        return "a negative zero"
    if value.adjusted() >= MAX_INTEGER_DIGITS:
        return f"more than {MAX_INTEGER_DIGITS} digits before the decimal point"
    if value != value.quantize(Decimal(1).scaleb(-minor_units)):
        return f"more decimals than the currency's {minor_units}"
    return None


def implausible_values(statement: Statement, report: ArithmeticReport) -> list[Implausible]:
    """Every reason ``statement`` (with its arithmetic ``report``) is not a statement's reading."""
    found: list[Implausible] = []
    if report.ok is False:
        found.append(
            Implausible("arithmetic", None, None, None, "the statement's arithmetic does not hold")
        )
    minor_units = MINOR_UNITS.get((statement.currency or "").upper(), DEFAULT_MINOR_UNITS)
    for name in ("opening_balance", "closing_balance"):
        value = getattr(statement, name)
        if value is not None and (problem := _money_problem(value, minor_units)):
            found.append(Implausible(name, None, None, str(value), problem))
    start, end = statement.period_start, statement.period_end
    for index, row in enumerate(statement.transactions):
        for name in ("amount", "balance"):
            value = getattr(row, name)
            if value is not None and (problem := _money_problem(value, minor_units)):
                found.append(Implausible(name, index, row.page, str(value), problem))
        if (start and row.date < start - DATE_MARGIN) or (end and row.date > end + DATE_MARGIN):
            found.append(
                Implausible("date", index, row.page, row.date.isoformat(), "far outside the period")
            )
    rows_per_page = Counter(row.page for row in statement.transactions)
    for page, count in sorted(rows_per_page.items(), key=lambda item: item[0] or 0):
        if count > ROWS_PER_PAGE_LIMIT:
            found.append(
                Implausible(
                    "row",
                    None,
                    page,
                    str(count),
                    f"{count} rows on one page, more than a page holds ({ROWS_PER_PAGE_LIMIT})",
                )
            )
    return found


def failed_empty_readings(candidates: Sequence[C]) -> list[C]:
    """The readings that read no row where another reading found rows on a page they share.

    An empty answer for a page that has rows is that route failing (a model that gave up, a
    truncated answer), not a vote for "no rows": counted as a vote it would outvote a real
    reading. Returned so that the caller leaves them out of the vote.
    """
    pages_with_rows = {
        row.page for candidate in candidates for row in candidate.statement.transactions
    }
    return [
        candidate
        for candidate in candidates
        if not candidate.statement.transactions
        and (pages_with_rows & set(candidate.pages) or None in pages_with_rows)
    ]
