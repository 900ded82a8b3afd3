"""What consensus knows of a reading (a statement, or a candidate with its pages), and the
human-readable difference report between two readings (``--explain``).

Whether readings agree is :func:`dualread.consensus.decide`'s to say: its status is "agreed"
when every value was unanimous at the first pass of each route.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from deepdiff import DeepDiff

from dualread.consensus.align import align
from dualread.consensus.normalize import normalize_statement
from dualread.statement import Statement

DESCRIPTION_THRESHOLD = 0.8
"""Two descriptions of one row agree at or above this similarity. A misread letter or two stays
above it; a different booking text, or one cut in half, does not."""

# Header fields printed where the statement begins or ends; all others sit on the first page.
LAST_PAGE_FIELDS = frozenset({"closing_balance", "period_end"})


class CandidateLike(Protocol):
    """What consensus needs of a ``dualread.stages.candidate.Candidate`` (matched by shape, so
    consensus does not import the stages beside it)."""

    route: str
    statement: Statement
    pages: tuple[int, ...]


Reading = Statement | CandidateLike


def statement_of(reading: Reading) -> Statement:
    return reading if isinstance(reading, Statement) else reading.statement


def pages_read(reading: Reading) -> tuple[int, ...]:
    """The pages a reading covers: the candidate's own list, else those its rows name, else 1."""
    if not isinstance(reading, Statement) and reading.pages:
        return tuple(sorted(reading.pages))
    found = sorted({t.page for t in statement_of(reading).transactions if t.page is not None})
    return tuple(found) or (1,)


def row_pages(slot: Sequence[int | None], statements: Sequence[Statement]) -> frozenset[int]:
    """Pages of the rows in a slot; a row without one borrows its nearest neighbour's."""
    pages: set[int] = set()
    for k, index in enumerate(slot):
        if index is None:
            continue
        rows = statements[k].transactions
        page = rows[index].page
        if page is None:
            near = sorted(range(len(rows)), key=lambda i: abs(i - index))
            page = next((rows[i].page for i in near if rows[i].page is not None), None)
        if page is not None:
            pages.add(page)
    return frozenset(pages)


def explain(a: Reading, b: Reading) -> str:
    """A human-readable difference report between two readings, for ``--explain``.

    Rows are keyed by aligned slot, so a dropped row reads as one missing row, not as every
    later row changed.
    """
    left, right = normalize_statement(statement_of(a)), normalize_statement(statement_of(b))
    slots = align([left.transactions, right.transactions])

    def view(statement: Statement, k: int) -> dict[str, Any]:
        data = statement.to_json_dict()
        rows = data.pop("transactions")
        data["transactions"] = {
            f"slot {n + 1}": None if slot[k] is None else rows[slot[k]]
            for n, slot in enumerate(slots)
        }
        return data

    diff = DeepDiff(view(left, 0), view(right, 1), view="tree")
    if not diff:
        return "The two readings agree after normalisation."
    return str(diff.pretty())
