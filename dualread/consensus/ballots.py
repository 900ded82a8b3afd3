"""The ballots: every candidate's reading normalised and aligned, and one vote per header field
and per part of each aligned row slot, cast by the candidates that read its page."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from dualread.consensus.align import align
from dualread.consensus.compare import LAST_PAGE_FIELDS, CandidateLike, pages_read, row_pages
from dualread.consensus.normalize import field_key, normalize_statement
from dualread.consensus.vote import Vote, tally
from dualread.statement import HEADER_FIELDS, Transaction

# Header fields the arithmetic (balances) or the dates (period) can settle when ballots tie.
_ARITHMETIC_FIELDS = frozenset({"opening_balance", "closing_balance", "period_start", "period_end"})
_ROW_PARTS = ("date", "amount", "balance")  # the parts of a row slot voted one by one


def candidate_labels(candidates: Sequence[CandidateLike]) -> list[dict[str, Any]]:
    """Which route and which of its passes each candidate is, plus how that pass asked."""
    seen: dict[str, int] = {}
    labels = []
    for candidate in candidates:
        seen[candidate.route] = seen.get(candidate.route, 0) + 1
        label: dict[str, Any] = {"route": candidate.route, "pass": seen[candidate.route]}
        params = getattr(candidate, "params", None)
        if params is not None:
            label.update(
                {
                    k: getattr(params, k)
                    for k in ("temperature", "seed", "dpi")
                    if hasattr(params, k)
                }
            )
        labels.append(label)
    return labels


class Ballots:
    """The aligned readings, and which candidate may vote where."""

    def __init__(self, candidates: Sequence[CandidateLike]) -> None:
        self.raw = [c.statement for c in candidates]
        self.routes = [c.route for c in candidates]
        self.statements = [normalize_statement(c.statement) for c in candidates]
        read = [frozenset(pages_read(c)) for c in candidates]
        everything = frozenset[int]().union(*read)
        self.coverage = [None if pages >= everything else pages for pages in read]
        self.first_page, self.last_page = min(everything), max(everything)
        # The reference for alignment is the first candidate that read every page.
        order = sorted(range(len(candidates)), key=lambda k: (self.coverage[k] is not None, k))
        slots = align(
            [self.statements[k].transactions for k in order],
            coverage=[self.coverage[k] for k in order],
        )
        self.slots = [tuple(slot[order.index(k)] for k in range(len(candidates))) for slot in slots]

    def covers(self, k: int, pages: frozenset[int]) -> bool:
        coverage = self.coverage[k]
        return coverage is None or not pages or bool(coverage & pages)

    def row(self, k: int, slot: tuple[int | None, ...]) -> Transaction | None:
        index = slot[k]
        return None if index is None else self.statements[k].transactions[index]


def header_votes(ballots: Ballots) -> list[Vote]:
    """One vote per header field; only candidates that read the field's page vote."""
    votes = []
    for name in HEADER_FIELDS:
        page = ballots.last_page if name in LAST_PAGE_FIELDS else ballots.first_page
        entries: list[tuple[int, Hashable, Any]] = []
        rejected = False
        for k, statement in enumerate(ballots.statements):
            value = getattr(statement, name)
            if not ballots.covers(k, frozenset({page})):
                continue
            if name == "iban" and value is None and ballots.raw[k].iban is not None:
                rejected = True  # it failed mod-97: a misreading, not a vote for "no IBAN"
                continue
            entries.append((k, field_key(name, value), value))
        arithmetic = name in _ARITHMETIC_FIELDS
        vote = tally(
            name, None, frozenset({page}), entries, routes=ballots.routes, arithmetic=arithmetic
        )
        if rejected and not entries:
            vote.how = "disputed"  # every reading failed mod-97: the IBAN is in doubt, not absent
        elif rejected and vote.how == "unanimous":
            vote.how = "majority"  # the readings did differ: not an agreement
        votes.append(vote)
    return votes


@dataclass
class SlotVote:
    """The decisions of one aligned row slot: is there a row, and its date, amount, balance.

    Voting the parts separately lets each be settled by the evidence that bears on it: the
    arithmetic fixes an amount, date order a date, and a wrong date on the reading with the
    right amount does not come along with it.
    """

    number: int
    pages: frozenset[int]
    rows: dict[int, Transaction]  # voter -> the row it read here (voters that read one)
    presence: Vote  # value True, or None for "no such row"
    date: Vote | None
    amount: Vote | None
    balance: Vote | None

    def votes(self) -> list[Vote]:
        return [p for p in (self.presence, self.date, self.amount, self.balance) if p is not None]


def _part_vote(
    name: str,
    number: int,
    pages: frozenset[int],
    rows: dict[int, Transaction],
    routes: Sequence[str],
) -> Vote | None:
    """The vote on one field of a slot's row, among the voters that read the row."""
    entries = [(k, getattr(r, name), getattr(r, name)) for k, r in rows.items()]
    entries = [entry for entry in entries if entry[1] is not None]
    if not entries:
        return None
    return tally(name, number, pages, entries, routes=routes, arithmetic=True)


def slot_votes(ballots: Ballots) -> list[SlotVote]:
    votes = []
    for number, slot in enumerate(ballots.slots):
        pages = row_pages(slot, ballots.statements)
        voters = [k for k in range(len(slot)) if ballots.covers(k, pages)]
        rows = {k: r for k in voters if (r := ballots.row(k, slot)) is not None}

        presence = tally(
            "row",
            number,
            pages,
            [(k, k in rows, True if k in rows else None) for k in voters],
            routes=ballots.routes,
            arithmetic=True,
        )
        parts = [_part_vote(n, number, pages, rows, ballots.routes) for n in _ROW_PARTS]
        votes.append(SlotVote(number, pages, rows, presence, *parts))
    return votes
