"""Do two readings agree? Field by field and row by row, after normalisation and alignment.

This is the fast path's test: when the two routes agree, the document is done after two passes.
When they do not, the answer names the header fields and row slots that differ and the pages
they came from, so extra passes re-read only those pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from deepdiff import DeepDiff

from dualread.consensus.align import align
from dualread.consensus.normalize import field_key, normalize_statement
from dualread.parsing import description_similarity
from dualread.statement import HEADER_FIELDS, Statement, Transaction

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


@dataclass(frozen=True)
class SlotDifference:
    """An aligned row slot where the readings differ."""

    slot: int
    rows: tuple[int | None, ...]  # the row index in each reading, None where it has no row
    fields: tuple[str, ...]  # "row" (present in one only), "date", "amount", "description", ...
    pages: frozenset[int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "slot": self.slot,
            "rows": list(self.rows),
            "fields": list(self.fields),
            "pages": sorted(self.pages),
        }


@dataclass(frozen=True)
class Agreement:
    """The verdict on two readings. ``disputed_pages`` are the pages an extra pass must re-read."""

    agreed: bool
    header_differences: dict[str, tuple[Any, Any]]  # field -> (value in a, value in b)
    disputed_slots: tuple[SlotDifference, ...]
    slots: tuple[tuple[int | None, ...], ...]
    disputed_pages: frozenset[int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "agreed": self.agreed,
            "header_differences": {
                name: [str(v) if v is not None else None for v in values]
                for name, values in self.header_differences.items()
            },
            "disputed_slots": [d.to_dict() for d in self.disputed_slots],
            "disputed_pages": sorted(self.disputed_pages),
        }


def statement_of(reading: Reading) -> Statement:
    return reading if isinstance(reading, Statement) else reading.statement


def pages_read(reading: Reading) -> tuple[int, ...]:
    """The pages a reading covers: the candidate's own list, else those its rows name, else 1."""
    if not isinstance(reading, Statement) and reading.pages:
        return tuple(sorted(reading.pages))
    found = sorted({t.page for t in statement_of(reading).transactions if t.page is not None})
    return tuple(found) or (1,)


def header_field_page(name: str, reading: Reading) -> int:
    """Where a header field is printed: closing values on the last page read, the rest first."""
    pages = pages_read(reading)
    return pages[-1] if name in LAST_PAGE_FIELDS else pages[0]


def row_differences(
    rows: Sequence[Transaction | None], *, description_threshold: float = DESCRIPTION_THRESHOLD
) -> tuple[str, ...]:
    """The fields on which aligned rows differ; ``("row",)`` when some reading lacks the row.

    Balances differ only when both readings print one: a reader that skips the balance column
    has not contradicted the other.
    """
    if any(r is None for r in rows):
        return ("row",) if any(r is not None for r in rows) else ()
    present = [r for r in rows if r is not None]
    first = present[0]
    fields: list[str] = []
    if any(r.date != first.date for r in present):
        fields.append("date")
    if any(r.amount != first.amount for r in present):
        fields.append("amount")
    if any(
        description_similarity(first.description, r.description) < description_threshold
        for r in present[1:]
    ):
        fields.append("description")
    balances = {r.balance for r in present if r.balance is not None}
    if len(balances) > 1:
        fields.append("balance")
    return tuple(fields)


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


def agree(
    a: Reading, b: Reading, *, description_threshold: float = DESCRIPTION_THRESHOLD
) -> Agreement:
    """Compare two readings (statements or candidates) after normalising both.

    Agreement means every header field is equal in its compared form, every row has a partner,
    and partners match on date, amount and (above the threshold) description.
    """
    left, right = normalize_statement(statement_of(a)), normalize_statement(statement_of(b))
    header: dict[str, tuple[Any, Any]] = {}
    pages: set[int] = set()
    for name in HEADER_FIELDS:
        va, vb = getattr(left, name), getattr(right, name)
        if field_key(name, va) != field_key(name, vb):
            header[name] = (va, vb)
            pages.update({header_field_page(name, a), header_field_page(name, b)})
    slots = align([left.transactions, right.transactions])
    disputed: list[SlotDifference] = []
    for number, slot in enumerate(slots):
        rows = [
            None if i is None else s.transactions[i]
            for i, s in zip(slot, (left, right), strict=True)
        ]
        fields = row_differences(rows, description_threshold=description_threshold)
        if fields:
            # A row missing from one reading still lives on the page where the other saw it.
            where = row_pages(slot, (left, right)) or frozenset(pages_read(a))
            disputed.append(SlotDifference(number, slot, fields, where))
            pages.update(where)
    return Agreement(
        agreed=not header and not disputed,
        header_differences=header,
        disputed_slots=tuple(disputed),
        slots=tuple(slots),
        disputed_pages=frozenset(pages),
    )


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
