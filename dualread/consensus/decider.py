"""``decide()``: from several readings of one document to one statement, with its evidence.

Normalise every candidate, align their rows, vote per header field and per row slot, let the
arithmetic break ties, and say how sure each value is and what stayed disputed.

Disputes come in two severities. A *value* dispute (a number, date, identifier or the currency
of the header, a row's presence, date, amount or balance) leaves the document "unresolved" (exit
code 3): users need the numbers right or flagged. A *text* dispute (a row's description,
counterparty or reference; the bank's or the holder's name) is informative: it is listed, a row
keeps the best guess of its text with its confidence halved, a name follows ``on_dispute`` like
any header field with confidence 0, and the document can still be "resolved".

Value disputes and ``on_dispute``: with ``"best"`` every disputed value keeps the best guess (a
present value over none, then the one more readings gave, then the earliest candidate's).
With ``"null"`` (the default) a disputed value becomes null where the schema allows null (header
fields, a row's balance); a value the schema requires (a row itself, its date or amount) keeps
the best guess, because dropping a row would silently change the sum. Either way the dispute is
listed and the row's or field's confidence is 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dualread.arithmetic import ArithmeticReport, check
from dualread.choices import OnDispute, Status
from dualread.consensus.ballots import Ballots, candidate_labels, header_votes, slot_votes
from dualread.consensus.compare import DESCRIPTION_THRESHOLD, CandidateLike
from dualread.consensus.plausibility import failed_empty_readings, implausible_values
from dualread.consensus.reread import pages_to_reread
from dualread.consensus.result import Decision, Dispute, dispute_of
from dualread.consensus.rows import merged_readings, settled_row
from dualread.consensus.settle import Settlement, apply_arithmetic_confidence, confidence_of
from dualread.consensus.vote import Vote
from dualread.statement import Statement, Transaction

_TEXT_DOUBT = 0.5  # factor on the confidence of a row whose text alone is disputed
_UNVERIFIED_ROW_CONFIDENCE = 0.3  # below a single reading's 0.5: nothing confirmed these rows
UNVERIFIED_REVIEW = (
    "one reader, and the statement prints no running balance and no opening and closing "
    "balance (or printed totals) to check its rows against: check them by hand"
)
"""Why an unverified result needs a person (the record's ``review`` line)."""
_NOTHING_READ = "no transactions were read, and no printed balances confirm an empty statement"
_NO_READING = "no reader read a statement here (a blank page, or no statement): see failures"


def decide(
    candidates: Sequence[CandidateLike],
    *,
    on_dispute: OnDispute = "null",
    readers: int | None = None,
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

    The status is decided here and nowhere else:

    - "single": one reader was asked and read the document, and its arithmetic holds (a reading
      whose own numbers contradict each other is "unresolved");
    - "unverified": one reader, and nothing printed let the arithmetic check it: its rows'
      confidence stays below a single reading's and ``review`` says why a person should look;
    - "unresolved": no reader gave a reading at all (a blank page, a page that is no
      statement: the empty result is still written, for a person to look at), a value dispute
      remains, or only one of the ``readers`` asked (default: as many as gave readings) gave a
      reading, so nothing could confirm it; a reading with no rows for pages where another
      reader found rows counts as that route failing, not as a vote for "no rows"; and readers
      agreeing on no rows at all settle nothing unless the printed balances confirm an empty
      statement;
    - "agreed": every reading agreed on every value at the first pass of each route;
    - "resolved": the readings differed, or agreed only after extra passes, and the vote or
      the arithmetic settled every value; at most a row's text stays in doubt.

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
        return _nothing_read()
    # Readers asked, counted before empty readings are set aside: a route that failed still
    # leaves the others unconfirmed.
    asked = readers if readers is not None else len({c.route for c in candidates})
    failed = failed_empty_readings(candidates)
    candidates = [c for c in candidates if all(c is not f for f in failed)]
    ballots = Ballots(candidates)
    labels = candidate_labels(candidates)
    header = header_votes(ballots)
    slots = slot_votes(ballots)
    settlement = Settlement(header, slots)
    settlement.settle()
    merged = merged_readings(slots)

    disputes: list[Dispute] = [_failed_reading(c) for c in failed]
    field_confidence: dict[str, float] = {}
    header_values: dict[str, Any] = {}
    for vote in header:
        disputed = vote.how == "disputed"
        value = None if disputed and on_dispute == "null" else vote.chosen.value
        header_values[vote.field] = value
        field_confidence[vote.field] = confidence_of(vote)
        if disputed:
            disputes.append(dispute_of(vote, None, labels, ballots.routes, value))

    transactions: list[Transaction] = []
    row_confidence: list[float] = []
    for slot in slots:
        if slot.presence.chosen.value is None:
            continue
        index = len(transactions)
        row, row_disputes = settled_row(
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
        row_confidence.append(0.0 if value_disputed else min(confidence_of(p) for p in parts))
        disputes.extend(row_disputes)

    statement = Statement(**header_values, transactions=transactions)
    report = check(statement, order=settlement.order)
    value_disputes = [d for d in disputes if d.severity == "value"]
    apply_arithmetic_confidence(report, statement, field_confidence, row_confidence, value_disputes)
    for index in {d.row for d in disputes if d.severity == "text" and d.row is not None}:
        row_confidence[index] *= _TEXT_DOUBT  # the numbers may hold; the text is a guess
    # A slot voted away counts through its presence alone; its other parts had no say.
    relevant = [
        *header,
        *(p for s in slots for p in (s.votes() if s.presence.chosen.value else [s.presence])),
    ]
    status = _status(candidates, asked, relevant, disputes, report)
    if not transactions and report.ok is not True:
        status = "unresolved"  # readers agreeing on an empty table prove nothing by agreeing
        disputes.append(Dispute.of_reason(_NOTHING_READ))
    if status == "unverified":
        row_confidence = [min(c, _UNVERIFIED_ROW_CONFIDENCE) for c in row_confidence]
    for doubt in implausible_values(statement, report):  # agreement on nonsense settles nothing
        if doubt.field == "arithmetic" and status == "unresolved":
            continue  # the value disputes listed already are why the arithmetic fails
        status = "unresolved"
        disputes.append(
            Dispute.of_reason(
                doubt.reason, field=doubt.field, row=doubt.row, page=doubt.page, chosen=doubt.value
            )
        )
    return Decision(
        statement=statement,
        status=status,
        field_confidence=field_confidence,
        row_confidence=row_confidence,
        disputes=disputes,
        arithmetic=report,
        disputed_pages=pages_to_reread(disputes),
        review=UNVERIFIED_REVIEW if status == "unverified" else None,
    )


def _nothing_read() -> Decision:
    """Every reader asked failed: an empty statement, unresolved, saying so (the failures
    themselves are the pipeline's record)."""
    statement = Statement(transactions=[])
    return Decision(
        statement=statement,
        status="unresolved",
        field_confidence={},
        row_confidence=[],
        disputes=[Dispute.of_reason(_NO_READING)],
        arithmetic=check(statement),
        disputed_pages=frozenset(),
    )


def _failed_reading(reading: CandidateLike) -> Dispute:
    """The dispute that says why ``reading`` had no vote (see ``failed_empty_readings``)."""
    reason = (
        f"route {reading.route} read no rows on pages where another reader found rows: "
        "a failed reading, left out of the vote"
    )
    return Dispute.of_reason(reason)


def _status(
    candidates: Sequence[CandidateLike],
    readers: int | None,
    votes: Sequence[Vote],
    disputes: Sequence[Dispute],
    report: ArithmeticReport,
) -> Status:
    routes = [c.route for c in candidates]
    if len(set(routes)) == 1 and (readers or 1) > 1:
        return "unresolved"  # the other readers failed: nothing confirms this one
    if len(candidates) == 1:  # its own arithmetic is all that can check it
        return "unresolved" if report.ok is False else "single" if report.ok else "unverified"
    if any(d.severity == "value" for d in disputes):
        return "unresolved"
    if not disputes and all(p.how == "unanimous" for p in votes):
        # Agreement only after a route read again is not the fast path.
        return "agreed" if len(set(routes)) == len(routes) else "resolved"
    return "resolved"  # the readings differed, and at most their text stays in doubt
