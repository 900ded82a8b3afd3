"""Which way each amount goes, chosen by the statement's own arithmetic.

A printed amount's sign is often not printed: separate money-in and money-out columns whose
titles we could not read, a typed section ("Withdrawals") listing unsigned amounts, a card
issuer printing purchases positive, a C/D marker lost to OCR. Each row remembers where its sign
came from (its *sign group*: the column or section). The plausible interpretations are every
combination of flipping whole groups; the one the running-balance chain and opening + sum =
closing confirm is kept, the simplest (fewest flips) where several fit. Then single rows whose
own printed balance says the opposite sign are turned, one at a time, only where exactly one
row between two printed balances (the opening and the closing among them) fits. With no
balance printed at all nothing is changed: the arithmetic has nothing to say.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

MAX_GROUPS = 4  # more sign groups than this is no longer a few plausible interpretations


@dataclass(frozen=True)
class SignedRow:
    """A row's amount as read, its printed running balance, and what decided its sign."""

    amount: Decimal
    balance: Decimal | None
    group: str


@dataclass(frozen=True)
class Fit:
    """How well one interpretation's amounts fit the printed balances."""

    checks: int  # printed balances (and the closing) that the amounts reach exactly
    breaks: int  # printed balances (and the closing) they miss

    @property
    def confirmed(self) -> bool:
        return self.checks > 0 and self.breaks == 0


def fit(
    amounts: Sequence[Decimal],
    balances: Sequence[Decimal | None],
    opening: Decimal | None,
    closing: Decimal | None,
) -> Fit:
    """Walk the rows: each printed balance must equal the last one (or the opening) plus the
    amounts since. A miss restarts the walk at the printed figure, so one error counts once."""
    running = opening
    checks = breaks = 0
    for amount, balance in zip(amounts, balances, strict=True):
        if running is not None:
            running += amount
        if balance is not None:
            if running is not None:
                checks += running == balance
                breaks += running != balance
            running = balance
    if closing is not None and running is not None:
        checks += running == closing
        breaks += running != closing
    return Fit(checks, breaks)


def _flipped(rows: Sequence[SignedRow], groups: frozenset[str]) -> list[Decimal]:
    return [-r.amount if r.group in groups else r.amount for r in rows]


def _repair_rows(
    amounts: list[Decimal],
    balances: Sequence[Decimal | None],
    opening: Decimal | None,
    closing: Decimal | None,
) -> list[Decimal]:
    """Between two printed balances (the opening and the closing among them), one row whose
    flip makes the pair agree (and only one) is turned."""
    start = 0
    previous = opening
    repaired = list(amounts)
    checkpoints = [(i, b) for i, b in enumerate(balances) if b is not None]
    if closing is not None:
        checkpoints.append((len(balances) - 1, closing))
    for index, balance in checkpoints:
        segment = range(start, index + 1)
        if previous is not None:
            delta = balance - previous
            total = sum((repaired[i] for i in segment), Decimal(0))
            if total != delta:
                fits = [i for i in segment if total - 2 * repaired[i] == delta and repaired[i]]
                if len(fits) == 1:
                    repaired[fits[0]] = -repaired[fits[0]]
        previous, start = balance, index + 1
    return repaired


def choose_signs(
    rows: Sequence[SignedRow], opening: Decimal | None, closing: Decimal | None
) -> list[Decimal] | None:
    """The amounts of the interpretation the arithmetic confirms, or None when the printed
    balances cannot tell (none printed) or no interpretation fits better than the reading."""
    balances = [r.balance for r in rows]
    as_read = [r.amount for r in rows]
    baseline = fit(as_read, balances, opening, closing)
    if baseline.confirmed or (baseline.checks + baseline.breaks) == 0:
        return None
    groups = sorted({r.group for r in rows})
    if len(groups) > MAX_GROUPS:
        return None
    best: tuple[int, int] = (-baseline.breaks, baseline.checks)
    chosen: list[Decimal] | None = None
    for size in range(0, len(groups) + 1):  # fewest flips first: the simplest reading wins ties
        for flipped in itertools.combinations(groups, size):
            # Turning a group and a row to meet the one closing equation fits too easily: a
            # row is turned for the closing only in the reading as printed.
            at_closing = None if flipped else closing
            amounts = _repair_rows(
                _flipped(rows, frozenset(flipped)), balances, opening, at_closing
            )
            result = fit(amounts, balances, opening, closing)
            if (-result.breaks, result.checks) > best:
                best, chosen = (-result.breaks, result.checks), amounts
    return chosen
