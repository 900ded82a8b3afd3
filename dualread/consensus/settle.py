"""Arithmetic settling: where the ballots tie or the voted statement breaks its own equations,
the arithmetic chooses, and it raises or lowers the confidence of what it confirms or
contradicts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dualread.arithmetic import ArithmeticReport, Order, check, detect_order
from dualread.consensus.ballots import SlotVote
from dualread.consensus.result import Dispute
from dualread.consensus.vote import Option, Vote, break_ties, overrule
from dualread.statement import Statement, Transaction

_BALANCE_FIELDS = frozenset({"opening_balance", "closing_balance"})
_CONFIRMED = 0.95  # a value the arithmetic confirms
_TOTALS_CONFIRMED = 0.9  # a row amount confirmed only through opening + sum = closing
_ARITHMETIC_CHOICE = 0.75  # a tie that arithmetic broke
_SINGLE_READING = 0.5  # a value only one candidate saw


class Settlement:
    """Builds the statement a set of choices implies, for the arithmetic and for the result."""

    def __init__(self, header: list[Vote], slots: list[SlotVote]) -> None:
        self.header, self.slots = header, slots
        self.votes: list[Vote] = [*header, *(p for s in slots for p in s.votes())]
        self.order: Order = "chronological"
        self._index = {id(p): i for i, p in enumerate(self.votes)}
        self._rows: dict[tuple[Any, ...], Transaction] = {}

    def _pick(self, vote: Vote | None, overrides: dict[int, Option]) -> Any:
        if vote is None:
            return None
        return overrides.get(self._index[id(vote)], vote.chosen).value

    def statement(self, overrides: dict[int, Option] | None = None) -> Statement:
        overrides = overrides or {}
        transactions = []
        for slot in self.slots:
            if self._pick(slot.presence, overrides) is None:
                continue
            key = (
                slot.number,
                self._pick(slot.date, overrides),
                self._pick(slot.amount, overrides),
                self._pick(slot.balance, overrides),
            )
            if key not in self._rows:  # the same rows are rebuilt for every combination tried
                base = next(iter(slot.rows.values()))
                self._rows[key] = base.model_copy(
                    update={"date": key[1], "amount": key[2], "balance": key[3]}
                )
            transactions.append(self._rows[key])
        values = {p.field: self._pick(p, overrides) for p in self.header}
        return Statement.model_construct(**values, transactions=transactions)

    def score(self, overrides: dict[int, Option]) -> tuple[int, ...]:
        """Broken equations, then implausible dates, then (negated) equations that hold.

        More holding equations win among consistent readings: two rows whose printed balances
        both fit the chain beat one merged row, which is consistent by construction, while an
        invented intermediate balance that fits would be a coincidence; and a closing balance
        one reading gave and another missed is confirmed where it equals the last running
        balance both read.
        """
        report = check(self.statement(overrides), order=self.order)
        return (
            report.violations,
            report.inconsistencies - report.violations,
            -report.holding,
        )

    def settle(self) -> None:
        """Ties first; then, where the result still breaks the arithmetic, let it overrule the
        majorities around each break, and try the ties again: a tie only settles when every
        equation holds, so a break elsewhere (a row both routes dropped) held them all open."""
        self.order = detect_order(self.statement())
        break_ties(self.votes, self.score)
        report = check(self.statement(), order=self.order)
        if report.violations and overrule(self.votes, self._suspects(report), self.score):
            break_ties(self.votes, self.score)

    def _suspects(self, report: ArithmeticReport) -> list[int]:
        """Points that could explain the breaks: every slot from the row before a chain break
        to the break (a dropped row sits between them), and the header balances when the
        totals or the closing balance fail."""
        present = [s.number for s in self.slots if s.presence.chosen.value is not None]
        numbers: set[int] = set()
        for row in report.chain_breaks:
            low = present[row - 1] if row > 0 else 0
            numbers.update(range(low, present[row] + 1))
        if report.totals_ok is False and not report.chain_links_checked:
            numbers.update(s.number for s in self.slots)  # nothing localises the gap
        suspects = [p for s in self.slots if s.number in numbers for p in s.votes()]
        if report.totals_ok is False or report.closing_matches_last_balance is False:
            suspects += [p for p in self.header if p.field in _BALANCE_FIELDS]
        return [self._index[id(p)] for p in suspects]


def confidence_of(vote: Vote) -> float:
    if vote.how == "disputed":
        return 0.0
    if vote.voter_count < 2:
        return _SINGLE_READING
    if vote.how == "arithmetic":
        return max(vote.share, _ARITHMETIC_CHOICE)
    return vote.share


def apply_arithmetic_confidence(
    report: ArithmeticReport,
    statement: Statement,
    field_confidence: dict[str, float],
    row_confidence: list[float],
    disputes: Sequence[Dispute],
) -> None:
    """Raise the confidence of values the arithmetic confirms, lower those it contradicts;
    rows with a value in ``disputes`` stay at 0."""
    disputed_rows = {d.row for d in disputes if d.row is not None}
    breaks = set(report.chain_breaks)
    for index, row in enumerate(statement.transactions):
        if index in disputed_rows:
            continue
        if index in breaks:
            row_confidence[index] *= 0.5
        elif report.chain_links_checked and row.balance is not None:
            row_confidence[index] = max(row_confidence[index], _CONFIRMED)
        elif report.totals_ok:
            row_confidence[index] = max(row_confidence[index], _TOTALS_CONFIRMED)
    confirmed = {
        "opening_balance": report.totals_ok or (report.chain_links_checked and not breaks),
        "closing_balance": report.totals_ok or report.closing_matches_last_balance,
    }
    for name, ok in confirmed.items():
        if ok and field_confidence.get(name, 0.0) > 0 and getattr(statement, name) is not None:
            field_confidence[name] = max(field_confidence[name], _CONFIRMED)
