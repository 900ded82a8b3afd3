"""CSV output: one row per transaction, plus the consensus confidence of that row."""

from __future__ import annotations

import csv
import io
from typing import Any

from dualread.statement import validate_document

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
)


def render_csv(document: dict[str, Any], *, header: bool = True) -> str:
    validate_document(document)
    confidences = document.get("extraction", {}).get("confidence", {}).get("transactions", [])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(COLUMNS)
    for index, row in enumerate(document["transactions"]):
        confidence = confidences[index] if index < len(confidences) else ""
        values = {**row, "currency": document.get("currency"), "confidence": confidence}
        writer.writerow(["" if values.get(c) is None else values[c] for c in COLUMNS])
    return buffer.getvalue()
