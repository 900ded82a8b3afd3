"""Row settlement: the result row of each aligned slot, its text and the disputes left on it."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from dualread.choices import OnDispute
from dualread.consensus.ballots import SlotVote
from dualread.consensus.reread import EXTRA_PASS_ROUTE, reread_may_settle
from dualread.consensus.result import Dispute, dispute_of, first_page, json_value
from dualread.parsing import description_similarity, normalize_description
from dualread.statement import Transaction


def settled_row(
    slot: SlotVote,
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
    ``merged`` read this row joined with a neighbour (see :func:`merged_readings`) and have
    no say on its text.
    """
    # Every other reading of the row speaks for its text, also one whose amount was outvoted.
    texts = {k: r for k, r in slot.rows.items() if k not in merged} or slot.rows
    rows = list(texts.values())
    description, description_tied = choose_description(texts, routes, description_threshold)
    disputes = [
        dispute_of(vote, index, labels, routes, vote.chosen.value)
        for vote in (slot.date, slot.amount, slot.balance)
        if vote is not None and vote.how == "disputed"
    ]
    page = first_page(slot.pages)
    if slot.presence.how == "disputed":
        said = [{**labels[k], "value": json_value(slot.rows.get(k))} for k in voters_of(slot)]
        rereadable = reread_may_settle(slot.presence, routes)
        disputes.insert(0, Dispute("row", index, page, tuple(said), True, rereadable))
    if description_tied:
        said = [{**labels[k], "value": r.description} for k, r in texts.items()]
        route_a_reads = sum(routes[k] == EXTRA_PASS_ROUTE for k in voters_of(slot))
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
            "value_date": _majority_orfirst_page([r.value_date for r in rows]),
            "counterparty": _majority_orfirst_page([r.counterparty for r in rows]),
            "reference": _majority_orfirst_page([r.reference for r in rows]),
            "page": _majority_orfirst_page([r.page for r in rows]),
        }
    )
    return row, disputes


def choose_description(
    rows: dict[int, Transaction], routes: Sequence[str], threshold: float
) -> tuple[str, bool]:
    """The description most readings support, and whether a dissimilar one had as much support.

    A reading's supporters are the readings similar to it at or above the threshold, counted as
    votes are (see :mod:`dualread.consensus.vote`): in distinct routes when several routes read
    the row, in readings when one did. Among equally supported spellings the one more readings
    support, then the one most readings wrote identically, wins (so a third reading settles a
    typo), then one that continues another's text (a reader that lost a wrapped second line or
    the tail is commoner than one that invents a continuation; a merged row, which does add
    text, has no say once the vote has split it: see :func:`merged_readings`), then the
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


def _majority_orfirst_page(values: Sequence[Any]) -> Any:
    """For informational fields (value date, counterparty, reference, page): the most frequent
    non-null value, ties to the earliest; never a dispute."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    return max(present, key=lambda v: (present.count(v), -present.index(v)))


def merged_readings(slots: Sequence[SlotVote]) -> dict[int, frozenset[int]]:
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
            if k not in n.rows and k in voters_of(n) and _joins(reading, amount, n, after=after)
        )
        if joined:
            merged[slot.number] = joined
    return merged


def _joins(reading: Transaction, amount: Decimal, neighbour: SlotVote, *, after: bool) -> bool:
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


def voters_of(slot: SlotVote) -> list[int]:
    return sorted(k for option in slot.presence.options for k in option.voters)
