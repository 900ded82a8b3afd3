"""Per-page readings -> one statement."""

from __future__ import annotations

from collections.abc import Sequence

from dualread.statement import HEADER_FIELDS, Statement

# The closing balance is printed at the end of a statement; an earlier page may print an interim
# balance ("carried forward") that a model can mistake for it, so the last page that shows one wins.
LAST_PAGE_WINS = {"closing_balance"}


def merge_pages(
    readings: Sequence[tuple[int, Statement]], *, rows_know_their_page: bool = False
) -> Statement:
    """Header fields from whichever page shows them (the first, or the last for
    :data:`LAST_PAGE_WINS`); transactions concatenated in page order, each with its ``page`` set
    to its reading's, unless ``rows_know_their_page`` (a reading of several pages set each row's).
    """
    ordered = sorted(readings, key=lambda reading: reading[0])
    header: dict[str, object] = {}
    for name in HEADER_FIELDS:
        shown = [getattr(s, name) for _, s in ordered if getattr(s, name) is not None]
        if shown:
            header[name] = shown[-1] if name in LAST_PAGE_WINS else shown[0]
    transactions = [
        row if rows_know_their_page else row.model_copy(update={"page": page})
        for page, statement in ordered
        for row in statement.transactions
    ]
    return Statement.model_validate({**header, "transactions": transactions})
