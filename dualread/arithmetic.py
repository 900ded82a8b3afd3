"""The statement's own arithmetic: the check a reader cannot fake.

A bank statement is over-determined: opening + sum of amounts = closing, and each printed running
balance equals the previous one plus the row's amount. A misread digit, a dropped row or a flipped
sign breaks one of these equations at a specific row. Consensus uses that to break ties between
candidates; the embedded engine uses it to check itself; the result reports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Any, Literal

from dualread.parsing import is_carried_forward
from dualread.statement import Statement, Transaction, format_money

Order = Literal["chronological", "reverse"]


@dataclass(frozen=True)
class ArithmeticReport:
    """What the statement's numbers say about themselves.

    ``None`` means "not checkable" (a balance or the header value is missing), never "passed".
    Row indices refer to ``statement.transactions`` as given.
    """

    order: Order
    totals_ok: bool | None  # opening + sum(amounts) == closing
    totals_difference: Decimal | None  # closing - (opening + sum): what is missing or extra
    closing_matches_last_balance: bool | None
    chain_links_checked: int
    chain_breaks: tuple[int, ...]  # rows whose balance does not follow from the previous balance
    page_breaks: tuple[int, ...]  # pages whose first balance does not follow from the page before
    sign_flips: tuple[int, ...]  # rows whose balance moved by -amount: sign probably flipped
    # Not arithmetic, but the same kind of self-evidence, used only to break ties between
    # readings: statements list rows in date order, and inside their period.
    dates_out_of_order: tuple[int, ...] = ()  # rows dated before the row just before in time
    dates_outside_period: tuple[int, ...] = ()

    @property
    def violations(self) -> int:
        """How many equations fail; the vote prefers the reading with fewer. (Sign flips
        diagnose failures already counted here.)"""
        return (
            (self.totals_ok is False)
            + (self.closing_matches_last_balance is False)
            + len(self.chain_breaks)
        )

    @property
    def inconsistencies(self) -> int:
        """Violations plus implausible dates: what the vote minimises when ballots tie."""
        return self.violations + len(self.dates_out_of_order) + len(self.dates_outside_period)

    @property
    def holding(self) -> int:
        """Equations that hold: running-balance links (each independently confirms a row), the
        closing against the last running balance, and opening + sum = closing."""
        return (
            self.chain_links_checked
            - len(self.chain_breaks)
            + (self.closing_matches_last_balance is True)
            + (self.totals_ok is True)
        )

    @property
    def checked(self) -> int:
        """How many equations could be checked at all."""
        return (
            (self.totals_ok is not None)
            + (self.closing_matches_last_balance is not None)
            + self.chain_links_checked
        )

    @property
    def ok(self) -> bool | None:
        """True when everything checkable holds, None when nothing was checkable."""
        if self.checked == 0:
            return None
        return self.violations == 0 and not self.page_breaks

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "order": self.order,
            "totals_ok": self.totals_ok,
            "totals_difference": (
                None if self.totals_difference is None else format_money(self.totals_difference)
            ),
            "closing_matches_last_balance": self.closing_matches_last_balance,
            "chain_links_checked": self.chain_links_checked,
            "chain_breaks": list(self.chain_breaks),
            "page_breaks": list(self.page_breaks),
            "sign_flips": list(self.sign_flips),
            "dates_out_of_order": list(self.dates_out_of_order),
            "dates_outside_period": list(self.dates_outside_period),
        }


@dataclass(frozen=True)
class _Chain:
    links: int
    passed: int
    breaks: tuple[int, ...]
    page_breaks: tuple[int, ...]
    sign_flips: tuple[int, ...]
    last_balance: Decimal | None  # the last printed balance, None when no row prints one
    pending: Decimal  # amounts after the last printed balance


def _walk_chain(
    rows: list[tuple[int, Transaction]], opening: Decimal | None, flip_candidates: bool
) -> _Chain:
    """Follow the running balance through rows in time order (oldest first).

    Rows without a printed balance accumulate into the next printed one, so statements that print
    a balance only per day still check. After a break the chain continues from the printed
    balance: a wrong balance breaks two links, a wrong amount one, and neither spreads further.
    Carried-forward rows are checkpoints: their value must equal the running balance there.
    """
    running, pending = opening, Decimal(0)
    last_printed: Decimal | None = None
    links = passed = 0
    breaks: list[int] = []
    page_breaks: list[int] = []
    flips: list[int] = []
    previous_page: int | None = None
    for index, row in rows:
        carried = is_carried_forward(row.description)
        printed = (
            (row.balance if row.balance is not None else row.amount) if carried else row.balance
        )
        if not carried:
            pending += row.amount
        if printed is None:
            continue
        new_page = previous_page is not None and row.page is not None and row.page != previous_page
        if running is not None:
            links += 1
            if running + pending == printed:
                passed += 1
            else:
                breaks.append(index)
                if new_page and row.page is not None:
                    page_breaks.append(row.page)
                if (
                    flip_candidates
                    and not carried
                    and row.amount
                    and running + pending - 2 * row.amount == printed
                ):
                    flips.append(index)
        running, last_printed, pending = printed, printed, Decimal(0)
        previous_page = row.page if row.page is not None else previous_page
    return _Chain(
        links,
        passed,
        tuple(sorted(breaks)),
        tuple(dict.fromkeys(page_breaks)),
        tuple(sorted(flips)),
        last_printed,
        pending,
    )


def detect_order(statement: Statement) -> Order:
    """Chronological or newest-first: whichever direction more balance links hold in; dates
    decide when no balance is printed."""
    indexed = list(enumerate(statement.transactions))
    forward = _walk_chain(indexed, None, flip_candidates=False)
    backward = _walk_chain(indexed[::-1], None, flip_candidates=False)
    if forward.passed != backward.passed:
        return "chronological" if forward.passed > backward.passed else "reverse"
    dates = [t.date for t in statement.transactions]
    descending = all(a >= b for a, b in pairwise(dates))
    return "reverse" if descending and dates and dates[0] > dates[-1] else "chronological"


def check(statement: Statement, *, order: Order | None = None) -> ArithmeticReport:
    """Check opening + sum = closing, the running-balance chain, page continuity and signs."""
    order = order or detect_order(statement)
    indexed = list(enumerate(statement.transactions))
    in_time = indexed if order == "chronological" else indexed[::-1]
    chain = _walk_chain(in_time, statement.opening_balance, flip_candidates=True)

    amounts = [t.amount for t in statement.transactions if not is_carried_forward(t.description)]
    opening, closing = statement.opening_balance, statement.closing_balance
    difference = None if opening is None or closing is None else closing - (opening + sum(amounts))
    flips = list(chain.sign_flips)
    if difference and chain.links == 0:
        # No balances to localise it: a single row whose sign explains the whole gap is named.
        flips += [i for i, t in indexed if t.amount and -2 * t.amount == difference]
    closing_link = (
        None
        if closing is None or chain.last_balance is None
        else chain.last_balance + chain.pending == closing
    )
    return ArithmeticReport(
        order=order,
        totals_ok=None if difference is None else difference == 0,
        totals_difference=difference,
        closing_matches_last_balance=closing_link,
        chain_links_checked=chain.links,
        chain_breaks=chain.breaks,
        page_breaks=chain.page_breaks,
        sign_flips=tuple(sorted(set(flips))),
        dates_out_of_order=tuple(
            sorted(j for (_, a), (j, b) in pairwise(in_time) if b.date < a.date)
        ),
        dates_outside_period=tuple(
            i
            for i, t in indexed
            if (statement.period_start and t.date < statement.period_start)
            or (statement.period_end and t.date > statement.period_end)
        ),
    )
