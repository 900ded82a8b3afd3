"""Page transcriptions as Nanonets-OCR-s writes them (text lines, an HTML table), and back.

The oracle builder and reader mode both write a page's markdown with :func:`page_markdown`.
Reader mode answers a markdown->JSON request with :func:`statement_in_markdown`, reading the
statement back out of the prompt: the OCR half of route B ran on the other stand-in server, in
another process, so this one cannot recognise that markdown from a reading of its own.
"""

from __future__ import annotations

import html
import re
from typing import Any

from .oracle_index import HEADER_FIELDS, empty_statement

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

# dualread's markdown->JSON prompt wraps each page in "=== PAGE n ===" ... "=== END OF PAGE n ===".
PAGE_BLOCK = re.compile(
    r"^=== PAGE (\d+) ===$(.*?)^=== END OF PAGE \1 ===$", re.MULTILINE | re.DOTALL
)
HEADER_LINE = re.compile(r"^(" + "|".join(map(re.escape, HEADER_LABELS.values())) + r"): (.*)$")
CELL = re.compile(r"<t([hd])>(.*?)</t\1>")
FIELD_OF_LABEL = {label: name for name, label in HEADER_LABELS.items()}
KEY_OF_COLUMN = {label: key for key, label in TABLE_COLUMNS}


def page_markdown(truth: dict[str, Any], page_number: str | None = None) -> str:
    """A transcription of a page holding ``truth`` (a page statement): its header fields as
    text lines, its rows as an HTML table, and ``page_number`` ("1/3") when the page prints one."""
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
    if page_number is not None:
        blocks.append(f"<page_number>{page_number}</page_number>")
    return "\n\n".join(blocks)


def statement_in_markdown(text: str) -> dict[str, Any]:
    """The statement that :func:`page_markdown` pages inside ``text`` show, as a model copies it:
    each header field from the first page showing it, every table row with its ``page`` from the
    page block holding it. Without page blocks all of ``text`` is one page of unknown number.
    Rows of empty cells (a looping OCR model's filler) are left out."""
    blocks: list[tuple[int | None, str]] = [
        (int(number), body) for number, body in PAGE_BLOCK.findall(text)
    ]
    statement = empty_statement()
    columns: list[str | None] = []  # kept across pages: a table may go on without its head
    for page, body in blocks or [(None, text)]:
        for line in body.splitlines():
            line = line.strip()
            if header := HEADER_LINE.match(line):
                name = FIELD_OF_LABEL[header[1]]
                if statement[name] is None:
                    statement[name] = html.unescape(header[2])
            elif cells := CELL.findall(line):
                values = [html.unescape(value) for _, value in cells]
                if cells[0][0] == "h":
                    columns = [KEY_OF_COLUMN.get(value) for value in values]
                elif any(values) and len(values) == len(columns):
                    row = {k: v or None for k, v in zip(columns, values, strict=True) if k}
                    row["description"] = row.get("description") or ""  # a string, never null
                    statement["transactions"].append(
                        {**dict.fromkeys(KEY_OF_COLUMN.values()), **row, "page": page}
                    )
    return statement
