"""CSV output: one row per transaction, plus the consensus confidence of that row and the
account it belongs to (a file may hold several accounts, each its own statement).

Payers choose the remittance text, so a description can be a spreadsheet formula
(``=HYPERLINK(...)``). As the OWASP guidance on CSV injection says, a cell that starts with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``: spreadsheets show it as text,
and the value stays readable. Plain numbers (``-12.50``) are left alone: they are not formulas.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from typing import Any

from dualread.outputs.accounts import account_name
from dualread.statement import validate_output

COLUMNS = (
    "date",
    "value_date",
    "description",
    "counterparty",
    "reference",
    "amount",
    "currency",
    "balance",
    "page",
    "confidence",
    "account",  # last: added in schema revision 1.2, so the columns before it keep their place
)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def neutralise_cell(value: Any) -> str:
    """The cell's text, with a leading ``'`` when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def render_csv(documents: Sequence[dict[str, Any]], *, header: bool = True) -> str:
    """One file's output (the statement of each account it holds) as CSV rows."""
    validate_output(documents)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180; a bare CR gets quoted too
    if header:
        writer.writerow(COLUMNS)
    for document in documents:
        confidences = document.get("extraction", {}).get("confidence", {}).get("transactions", [])
        shared = {"currency": document.get("currency"), "account": account_name(document)}
        for index, row in enumerate(document["transactions"]):
            confidence = confidences[index] if index < len(confidences) else ""
            values = {**row, **shared, "confidence": confidence}
            writer.writerow([neutralise_cell(values.get(c)) for c in COLUMNS])
    return buffer.getvalue()
