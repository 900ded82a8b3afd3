"""Build the stand-ins' oracle index from fixtures with ground truth.

A fixture is any input dualread reads (PDF or image) with ``<name>.truth.json`` beside it, in the
output schema, every transaction carrying its ``page``. Each page is rendered and encoded exactly
as the stages send it, so the stand-in finds it again by the hash of the bytes it receives.

Per page the index holds that page's truth (the statement header on the first page, the rows
printed on the page) and a Nanonets-style markdown transcription with an HTML table.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from dualread.documents import open_document
from dualread.stages.pageimage import page_png
from dualread.statement import HEADER_FIELDS, Statement

TABLE_COLUMNS = (
    ("date", "Date"),
    ("value_date", "Value date"),
    ("description", "Description"),
    ("counterparty", "Counterparty"),
    ("reference", "Reference"),
    ("amount", "Amount"),
    ("balance", "Balance"),
)
HEADER_LABELS = {
    "bank_name": "Bank",
    "account_holder": "Account holder",
    "account_number": "Account number",
    "iban": "IBAN",
    "bic": "BIC",
    "currency": "Currency",
    "period_start": "Period from",
    "period_end": "Period to",
    "opening_balance": "Opening balance",
    "closing_balance": "Closing balance",
}


def truth_path(fixture: Path) -> Path:
    return fixture.with_suffix(".truth.json")


def load_truth(fixture: Path) -> dict[str, Any]:
    """The fixture's truth as a model would answer it: the output schema without dualread's
    own keys, validated."""
    data = json.loads(truth_path(fixture).read_text(encoding="utf-8"))
    statement = Statement.model_validate(
        {k: v for k, v in data.items() if k not in ("schema_version", "extraction")}
    )
    truth = statement.to_json_dict()
    if any(row["page"] is None for row in truth["transactions"]):
        raise ValueError(f"{truth_path(fixture)}: every transaction needs its page")
    return truth


def page_truth(truth: dict[str, Any], page: int, first_page: int) -> dict[str, Any]:
    header = {name: truth[name] if page == first_page else None for name in HEADER_FIELDS}
    rows = [row for row in truth["transactions"] if row["page"] == page]
    return {**header, "transactions": rows}


def page_markdown(truth: dict[str, Any], page: int, page_count: int) -> str:
    """A transcription of the page as Nanonets-OCR-s writes one: text lines, an HTML table."""
    blocks = [
        f"{HEADER_LABELS[name]}: {html.escape(str(truth[name]))}"
        for name in HEADER_FIELDS
        if truth[name] is not None
    ]
    if truth["transactions"]:
        head = "".join(f"<th>{label}</th>" for _, label in TABLE_COLUMNS)
        rows = [
            "<tr>"
            + "".join(f"<td>{html.escape(str(row[key] or ''))}</td>" for key, _ in TABLE_COLUMNS)
            + "</tr>"
            for row in truth["transactions"]
        ]
        blocks.append("\n".join(["<table>", f"<tr>{head}</tr>", *rows, "</table>"]))
    blocks.append(f"<page_number>{page}/{page_count}</page_number>")
    return "\n\n".join(blocks)


def build_oracle_index(
    fixtures: Iterable[Path | str], dpi: int | Sequence[int] = 200
) -> dict[str, dict[str, Any]]:
    """``{sha256 of the page image as sent: {"truth", "markdown", "source"}}`` for every page of
    every fixture, at each DPI in ``dpi`` (extra passes may re-read at a higher one)."""
    dpis = (dpi,) if isinstance(dpi, int) else tuple(dpi)
    index: dict[str, dict[str, Any]] = {}
    for fixture in map(Path, fixtures):
        truth = load_truth(fixture)
        with open_document(fixture) as document:
            numbers = document.page_numbers
            for number in numbers:
                entry = page_truth(truth, number, numbers[0])
                markdown = page_markdown(entry, number, len(numbers))
                for each_dpi in dpis:
                    digest = hashlib.sha256(page_png(document, number, each_dpi)).hexdigest()
                    index[digest] = {
                        "truth": entry,
                        "markdown": markdown,
                        "source": f"{fixture.name}#{number}@{each_dpi}",
                    }
    return index


def write_oracle_index(index: dict[str, dict[str, Any]], path: Path) -> Path:
    """Write ``index`` as JSON, readable only by its owner (it holds statement content)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(index, handle, ensure_ascii=False)
    return path
