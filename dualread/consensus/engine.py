"""``decide()``: from several readings of one document to one statement, with its evidence.

Normalise every candidate, align their rows, vote per header field and per row slot, let the
arithmetic break ties, and say how sure each value is and what stayed disputed.

Disputes come in two severities. A *value* dispute (a header field, a row's presence, date,
amount or balance) leaves the document "unresolved" (exit code 3): users need the numbers right
or flagged. A *text* dispute (a row's description, counterparty or reference) is informative: it
is listed, the text kept is the best guess, the row's confidence is halved, and the document can
still be "resolved".

Value disputes and ``on_dispute``: with ``"best"`` every disputed value keeps the best guess (a
present value over none, then the one more readings gave, then the earliest candidate's).
With ``"null"`` (the default) a disputed value becomes null where the schema allows null (header
fields, a row's balance); a value the schema requires (a row itself, its date or amount) keeps
the best guess, because dropping a row would silently change the sum. Either way the dispute is
listed and the row's or field's confidence is 0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from dualread.consensus.align import align
from dualread.consensus.arithmetic import ArithmeticReport, Order, check, detect_order
from dualread.consensus.compare import (
    DESCRIPTION_THRESHOLD,
    LAST_PAGE_FIELDS,
    CandidateLike,
    pages_read,
    row_pages,
)
from dualread.consensus.normalize import (
    description_similarity,
    field_key,
    normalize_description,
    normalize_statement,
)
from dualread.consensus.vote import Option, Point, break_ties, overrule, tally
from dualread.statement import HEADER_FIELDS, Statement, Transaction, format_money

Status = Literal["agreed", "resolved", "unresolved", "single"]
OnDispute = Literal["null", "best"]
Severity = Literal["value", "text"]

TEXT_FIELDS = frozenset({"description", "counterparty", "reference"})
"""A row's free text: a dispute on it is soft (severity "text")."""
EXTRA_PASS_ROUTE = "visual"
"""The route the pipeline re-asks on disputed pages (route A)."""

# Header fields the arithmetic (balances) or the dates (period) can settle when ballots tie.
_ARITHMETIC_FIELDS = frozenset({"opening_balance", "closing_balance", "period_start", "period_end"})
_BALANCE_FIELDS = frozenset({"opening_balance", "closing_balance"})
_ROW_PARTS = ("date", "amount", "balance")  # the parts of a row slot voted one by one
_CONFIRMED = 0.95  # a value the arithmetic confirms
_TOTALS_CONFIRMED = 0.9  # a row amount confirmed only through opening + sum = closing
_ARITHMETIC_CHOICE = 0.75  # a tie that arithmetic broke
_SINGLE_READING = 0.5  # a value only one candidate saw
_TEXT_DOUBT = 0.5  # factor on the confidence of a row whose text alone is disputed


@dataclass(frozen=True)
class Dispute:
    """A value the readings left undecided: who said what, and what the result holds."""

    field: str  # a header field, or for rows: "row", "date", "amount", "description", "balance"
    row: int | None  # index in the result's transactions
    page: int | None
    candidates: tuple[dict[str, Any], ...]  # {"route", "pass", "value"}
    chosen: Any  # JSON-ready
    reread_may_settle: bool = True  # whether another route-A pass on ``page`` could settle it

    @property
    def severity(self) -> Severity:
        """How much it weighs: "text" on a row's free text (informative), else "value"."""
        return "text" if self.row is not None and self.field in TEXT_FIELDS else "value"

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "severity": self.severity,
            "row": self.row,
            "page": self.page,
            "candidates": list(self.candidates),
            "chosen": self.chosen,
        }


@dataclass(frozen=True)
class Decision:
    """The outcome of consensus for one document."""

    statement: Statement
    status: Status
    field_confidence: dict[str, float]
    row_confidence: list[float]
    disputes: list[Dispute]
    arithmetic: ArithmeticReport
    disputed_pages: frozenset[int]  # pages another route-A pass could still settle (decide())

    def to_dict(self) -> dict[str, Any]:
        """The consensus parts of the JSON ``extraction`` block."""
        return {
            "status": self.status,
            "confidence": {
                "fields": {k: round(v, 3) for k, v in self.field_confidence.items()},
                "transactions": [round(v, 3) for v in self.row_confidence],
            },
            "disputes": [d.to_dict() for d in self.disputes],
            "arithmetic": self.arithmetic.to_dict(),
        }


def _json_value(value: Any) -> Any:
    """A voted value as the JSON output writes it: money as a decimal string, dates ISO."""
    if isinstance(value, Transaction):
        return value.model_dump(mode="json")
    if isinstance(value, Decimal):
        return format_money(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _labels(candidates: Sequence[CandidateLike]) -> list[dict[str, Any]]:
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


class _Ballots:
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


def _header_points(ballots: _Ballots) -> list[Point]:
    """One point per header field; only candidates that read the field's page vote."""
    points = []
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
        point = tally(
            name, None, frozenset({page}), entries, routes=ballots.routes, arithmetic=arithmetic
        )
        if rejected and point.how == "unanimous":
            point.how = "majority"  # the readings did differ: not an agreement
        points.append(point)
    return points


@dataclass
class _SlotVote:
    """The decisions of one aligned row slot: is there a row, and its date, amount, balance.

    Voting the parts separately lets each be settled by the evidence that bears on it: the
    arithmetic fixes an amount, date order a date, and a wrong date on the reading with the
    right amount does not come along with it.
    """

    number: int
    pages: frozenset[int]
    rows: dict[int, Transaction]  # voter -> the row it read here (voters that read one)
    presence: Point  # value True, or None for "no such row"
    date: Point | None
    amount: Point | None
    balance: Point | None

    def points(self) -> list[Point]:
        return [p for p in (self.presence, self.date, self.amount, self.balance) if p is not None]


def _part_vote(
    name: str,
    number: int,
    pages: frozenset[int],
    rows: dict[int, Transaction],
    routes: Sequence[str],
) -> Point | None:
    """The vote on one field of a slot's row, among the voters that read the row."""
    entries = [(k, getattr(r, name), getattr(r, name)) for k, r in rows.items()]
    entries = [entry for entry in entries if entry[1] is not None]
    if not entries:
        return None
    return tally(name, number, pages, entries, routes=routes, arithmetic=True)


def _slot_votes(ballots: _Ballots) -> list[_SlotVote]:
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
        votes.append(_SlotVote(number, pages, rows, presence, *parts))
    return votes


def _choose_description(
    rows: dict[int, Transaction], routes: Sequence[str], threshold: float
) -> tuple[str, bool]:
    """The description most readings support, and whether a dissimilar one had as much support.

    A reading's supporters are the readings similar to it at or above the threshold, counted as
    votes are (see :mod:`dualread.consensus.vote`): in distinct routes when several routes read
    the row, in readings when one did. Among equally supported spellings the one more readings
    support, then the one most readings wrote identically, wins (so a third reading settles a
    typo), then one that continues another's text (a reader that lost a wrapped second line or
    the tail is commoner than one that invents a continuation; a merged row, which does add
    text, has no say once the vote has split it: see :func:`_merged_readings`), then the
    earliest.
    """
    readings = list(rows.values())
    voters = list(rows)
    texts = [normalize_description(r.description) for r in readings]
    backers = [
        [
            k
            for k, o in rows.items()
            if description_similarity(r.description, o.description) >= threshold
        ]
        for r in readings
    ]
    by_routes = len({routes[k] for k in voters}) > 1
    standing = [len({routes[k] for k in b}) if by_routes else len(b) for b in backers]
    continues = [any(t != mine and mine.startswith(t) for t in texts) for mine in texts]
    best = max(
        range(len(readings)),
        key=lambda i: (standing[i], len(backers[i]), texts.count(texts[i]), continues[i], -i),
    )
    rivals = [
        i
        for i in range(len(readings))
        if standing[i] == standing[best]
        and description_similarity(readings[i].description, readings[best].description) < threshold
    ]
    return readings[best].description, bool(rivals)


def _majority_or_first(values: Sequence[Any]) -> Any:
    """For informational fields (value date, counterparty, reference, page): the most frequent
    non-null value, ties to the earliest; never a dispute."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    return max(present, key=lambda v: (present.count(v), -present.index(v)))


class _Builder:
    """Builds the statement a set of choices implies, for the arithmetic and for the result."""

    def __init__(self, header: list[Point], slots: list[_SlotVote]) -> None:
        self.header, self.slots = header, slots
        self.points: list[Point] = [*header, *(p for s in slots for p in s.points())]
        self.order: Order = "chronological"
        self._index = {id(p): i for i, p in enumerate(self.points)}
        self._rows: dict[tuple[Any, ...], Transaction] = {}

    def _pick(self, point: Point | None, overrides: dict[int, Option]) -> Any:
        if point is None:
            return None
        return overrides.get(self._index[id(point)], point.chosen).value

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
        """Broken equations, then implausible dates, then (negated) balance links that hold.

        More holding links wins among consistent readings: two rows whose printed balances both
        fit the chain beat one merged row, which is consistent by construction, while an
        invented intermediate balance that fits would be a coincidence.
        """
        report = check(self.statement(overrides), order=self.order)
        return (
            report.violations,
            report.inconsistencies - report.violations,
            -report.links_holding,
        )

    def settle(self) -> None:
        """Ties first; then, where the result still breaks the arithmetic, let it overrule the
        majorities around each break, and try the ties again: a tie only settles when every
        equation holds, so a break elsewhere (a row both routes dropped) held them all open."""
        self.order = detect_order(self.statement())
        break_ties(self.points, self.score)
        report = check(self.statement(), order=self.order)
        if report.violations and overrule(self.points, self._suspects(report), self.score):
            break_ties(self.points, self.score)

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
        suspects = [p for s in self.slots if s.number in numbers for p in s.points()]
        if report.totals_ok is False or report.closing_matches_last_balance is False:
            suspects += [p for p in self.header if p.field in _BALANCE_FIELDS]
        return [self._index[id(p)] for p in suspects]


def decide(
    candidates: Sequence[CandidateLike],
    *,
    on_dispute: OnDispute = "null",
    description_threshold: float = DESCRIPTION_THRESHOLD,
) -> Decision:
    """Vote the candidates into one statement.

    Candidates come in order of trust for best guesses (route A's first reading first is the
    usual order). Their ``route`` counts: a value is settled when more routes read it than any
    other value, or when the arithmetic confirms it; more passes of one route against another
    route's value settle nothing on their own (see :mod:`dualread.consensus.vote`).

    A candidate whose ``pages`` cover only part of the document (an extra pass on disputed
    pages) votes only on decisions on those pages: pass it as it is, not spliced into a full
    reading, or its route's first reading would vote twice elsewhere.

    The status is "unresolved" only while a value dispute remains; disputes on a row's text
    alone leave it "resolved" (see the module docstring).

    ``disputed_pages`` are the pages where another route-A pass could still change the
    outcome; the pipeline stops re-reading when it is empty. A page with disputes is left out
    when every dispute on it is futile:

    - a value dispute where route A has given the same value at least twice against another
      route's different value. Support counts routes, so a third identical answer cannot
      settle it, and a model that answered alike twice is expected to answer alike again;
    - a text dispute once route A has read its page twice.

    Text disputes only ride along: when no value dispute is left that a pass may settle,
    ``disputed_pages`` is empty, so a document never pays a pass for its text alone.
    """
    if not candidates:
        raise ValueError("decide() needs at least one candidate")
    ballots = _Ballots(candidates)
    labels = _labels(candidates)
    header = _header_points(ballots)
    slots = _slot_votes(ballots)
    builder = _Builder(header, slots)
    builder.settle()
    merged = _merged_readings(slots)

    disputes: list[Dispute] = []
    field_confidence: dict[str, float] = {}
    header_values: dict[str, Any] = {}
    for point in header:
        disputed = point.how == "disputed"
        value = None if disputed and on_dispute == "null" else point.chosen.value
        header_values[point.field] = value
        field_confidence[point.field] = _confidence(point)
        if disputed:
            disputes.append(_dispute(point, None, labels, ballots.routes, value))

    transactions: list[Transaction] = []
    row_confidence: list[float] = []
    for slot in slots:
        if slot.presence.chosen.value is None:
            continue
        index = len(transactions)
        row, row_disputes = _settled_row(
            slot,
            index,
            labels,
            ballots.routes,
            merged.get(slot.number, frozenset()),
            on_dispute,
            description_threshold,
        )
        transactions.append(row)
        parts = [p for p in (slot.presence, slot.date, slot.amount) if p is not None]
        value_disputed = any(d.severity == "value" for d in row_disputes)
        row_confidence.append(0.0 if value_disputed else min(_confidence(p) for p in parts))
        disputes.extend(row_disputes)

    statement = Statement(**header_values, transactions=transactions)
    report = check(statement, order=builder.order)
    value_disputes = [d for d in disputes if d.severity == "value"]
    _apply_arithmetic_confidence(
        report, statement, field_confidence, row_confidence, value_disputes
    )
    for index in {d.row for d in disputes if d.severity == "text" and d.row is not None}:
        row_confidence[index] *= _TEXT_DOUBT  # the numbers may hold; the text is a guess
    # A slot voted away counts through its presence alone; its other parts had no say.
    relevant = [
        *header,
        *(p for s in slots for p in (s.points() if s.presence.chosen.value else [s.presence])),
    ]
    return Decision(
        statement=statement,
        status=_status(candidates, relevant, disputes),
        field_confidence=field_confidence,
        row_confidence=row_confidence,
        disputes=disputes,
        arithmetic=report,
        disputed_pages=_pages_to_reread(disputes),
    )


def _pages_to_reread(disputes: Sequence[Dispute]) -> frozenset[int]:
    """The pages of disputes another route-A pass may settle; none unless a value may change
    (see :func:`decide`)."""
    open_disputes = [d for d in disputes if d.reread_may_settle and d.page is not None]
    if not any(d.severity == "value" for d in open_disputes):
        return frozenset()
    return frozenset(d.page for d in open_disputes if d.page is not None)


def _merged_readings(slots: Sequence[_SlotVote]) -> dict[int, frozenset[int]]:
    """Per slot number, the voters whose row there merged it with a neighbouring row.

    Such a reader's amount here is not the one the result holds, it has no row of its own in
    the next (or previous) row the result holds, though it read its page, and its row here
    joins the two: both amounts summed, or the neighbour's text after (before) this one. It
    read two printed rows as one where the result holds two, so its text, both rows' text
    joined, describes neither and has no say on this row's text. The result's amounts count
    also where they are a disputed best guess: the text then fits the rows the result holds.
    """
    kept = [s for s in slots if s.presence.chosen.value is not None]
    merged: dict[int, frozenset[int]] = {}
    for position, slot in enumerate(kept):
        if slot.amount is None:
            continue
        amount = slot.amount.chosen.value
        neighbours = [
            (kept[at], position < at)
            for at in (position - 1, position + 1)
            if 0 <= at < len(kept) and kept[at].amount is not None
        ]
        joined = frozenset(
            k
            for k, reading in slot.rows.items()
            if reading.amount != amount
            for n, after in neighbours
            if k not in n.rows and k in _voters(n) and _joins(reading, amount, n, after=after)
        )
        if joined:
            merged[slot.number] = joined
    return merged


def _joins(reading: Transaction, amount: Decimal, neighbour: _SlotVote, *, after: bool) -> bool:
    """Whether ``reading`` holds a row (of the result's ``amount``) and ``neighbour``'s together:
    both amounts summed, or, where another misreading spoilt the sum, its text is this row's
    with the neighbour's joined ``after`` it (else before it)."""
    assert neighbour.amount is not None
    if reading.amount == amount + neighbour.amount.chosen.value:
        return True
    text = normalize_description(reading.description)
    parts = {normalize_description(row.description) for row in neighbour.rows.values()} - {""}
    if after:
        return any(text.endswith(f" {part}") for part in parts)
    return any(text.startswith(f"{part} ") for part in parts)


def _settled_row(
    slot: _SlotVote,
    index: int,
    labels: Sequence[dict[str, Any]],
    routes: Sequence[str],
    merged: frozenset[int],
    on_dispute: OnDispute,
    description_threshold: float,
) -> tuple[Transaction, list[Dispute]]:
    """The result row of a slot that has one, and the disputes left on it.

    Under ``on_dispute="null"`` a disputed balance becomes null; the row itself, its date,
    amount and description are required by the schema and keep the best guess. The voters in
    ``merged`` read this row joined with a neighbour (see :func:`_merged_readings`) and have
    no say on its text.
    """
    # Every other reading of the row speaks for its text, also one whose amount was outvoted.
    texts = {k: r for k, r in slot.rows.items() if k not in merged} or slot.rows
    rows = list(texts.values())
    description, description_tied = _choose_description(texts, routes, description_threshold)
    disputes = [
        _dispute(point, index, labels, routes, point.chosen.value)
        for point in (slot.date, slot.amount, slot.balance)
        if point is not None and point.how == "disputed"
    ]
    page = _first(slot.pages)
    if slot.presence.how == "disputed":
        said = [{**labels[k], "value": _json_value(slot.rows.get(k))} for k in _voters(slot)]
        rereadable = _reread_may_settle(slot.presence, routes)
        disputes.insert(0, Dispute("row", index, page, tuple(said), True, rereadable))
    if description_tied:
        said = [{**labels[k], "value": r.description} for k, r in texts.items()]
        route_a_reads = sum(routes[k] == EXTRA_PASS_ROUTE for k in _voters(slot))
        disputes.append(
            Dispute("description", index, page, tuple(said), description, route_a_reads < 2)
        )
    balance = None if slot.balance is None else slot.balance.chosen.value
    if slot.balance is not None and slot.balance.how == "disputed" and on_dispute == "null":
        balance = None
    assert slot.date is not None and slot.amount is not None  # a present row has both
    row = rows[0].model_copy(
        update={
            "date": slot.date.chosen.value,
            "amount": slot.amount.chosen.value,
            "description": description,
            "balance": balance,
            "value_date": _majority_or_first([r.value_date for r in rows]),
            "counterparty": _majority_or_first([r.counterparty for r in rows]),
            "reference": _majority_or_first([r.reference for r in rows]),
            "page": _majority_or_first([r.page for r in rows]),
        }
    )
    return row, disputes


def _reread_may_settle(point: Point, routes: Sequence[str]) -> bool:
    """Whether another route-A pass could still settle a disputed value: not once route A has
    given one value twice against another route's different value (see :func:`decide`)."""
    for option in point.options:
        repeats = sum(routes[k] == EXTRA_PASS_ROUTE for k in option.voters)
        against = any(
            other is not option and other.routes - {EXTRA_PASS_ROUTE} for other in point.options
        )
        if repeats >= 2 and against:
            return False
    return True


def _voters(slot: _SlotVote) -> list[int]:
    return sorted(k for option in slot.presence.options for k in option.voters)


def _first(pages: frozenset[int]) -> int | None:
    return min(pages) if pages else None


def _dispute(
    point: Point,
    row: int | None,
    labels: Sequence[dict[str, Any]],
    routes: Sequence[str],
    chosen: Any,
) -> Dispute:
    """What every candidate said, what the result holds, and whether a re-read may help."""
    said = sorted((k, _json_value(o.value)) for o in point.options for k in o.voters)
    return Dispute(
        field=point.field,
        row=row,
        page=_first(point.pages),
        candidates=tuple({**labels[k], "value": value} for k, value in said),
        chosen=_json_value(chosen),
        reread_may_settle=_reread_may_settle(point, routes),
    )


def _confidence(point: Point) -> float:
    if point.how == "disputed":
        return 0.0
    if point.voter_count < 2:
        return _SINGLE_READING
    if point.how == "arithmetic":
        return max(point.share, _ARITHMETIC_CHOICE)
    return point.share


def _apply_arithmetic_confidence(
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


def _status(
    candidates: Sequence[CandidateLike], points: Sequence[Point], disputes: Sequence[Dispute]
) -> Status:
    if len(candidates) == 1:
        return "single"
    if any(d.severity == "value" for d in disputes):
        return "unresolved"
    if not disputes and all(p.how == "unanimous" for p in points):
        return "agreed"
    return "resolved"  # the readings differed, and at most their text stays in doubt
