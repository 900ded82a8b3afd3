"""Build the stand-ins' oracle index from fixtures with ground truth.

A fixture is any input dualread reads (PDF or image) with ``<name>.truth.json`` beside it, in the
output schema, every transaction carrying its ``page``. Each page is rendered and encoded exactly
as the stages send it, so the stand-in finds it again by the hash of the bytes it receives.

Per page the index holds that page's truth (the statement header on the first page, the rows
printed on the page) and a Nanonets-style markdown transcription with an HTML table. A fixture
of several accounts (its truth an array of statements) is read as a model reads it, page by
page: each account's header on the page it begins, every account's rows where printed.

:func:`read_page_entry` makes the same entry for a page image without ground truth, from the
embedded engine's reading: the stand-ins' reader mode.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from dualread.choices import OcrEngine
from dualread.documents import DocumentError, open_document
from dualread.stages.embedded import EmbeddedReadError, read_embedded
from dualread.stages.pageimage import page_png
from dualread.statement import HEADER_FIELDS, Statement
from dualread.testing.standins.markdown import page_markdown
from dualread.testing.standins.oracle_index import empty_statement, merge_truths


def truth_path(fixture: Path) -> Path:
    return fixture.with_suffix(".truth.json")


def load_accounts(fixture: Path) -> list[dict[str, Any]]:
    """The fixture's truth, one statement per account, without dualread's own keys, validated."""
    data = json.loads(truth_path(fixture).read_text(encoding="utf-8"))
    accounts = []
    for document in data if isinstance(data, list) else [data]:
        statement = Statement.model_validate(
            {k: v for k, v in document.items() if k not in ("schema_version", "extraction")}
        )
        truth = statement.to_json_dict()
        if any(row["page"] is None for row in truth["transactions"]):
            raise ValueError(f"{truth_path(fixture)}: every transaction needs its page")
        accounts.append(truth)
    return accounts


def load_truth(fixture: Path) -> dict[str, Any]:
    """The fixture's truth as a model answers it: one statement (of several accounts, the
    page truths merged: the first account's header, every row)."""
    accounts = load_accounts(fixture)
    if len(accounts) == 1:
        return accounts[0]
    pages = sorted({row["page"] for account in accounts for row in account["transactions"]})
    return merge_truths([accounts_page_truth(accounts, page, pages[0]) for page in pages])


def page_truth(truth: dict[str, Any], page: int, first_page: int) -> dict[str, Any]:
    return accounts_page_truth([truth], page, first_page)


def accounts_page_truth(
    accounts: Sequence[dict[str, Any]], page: int, first_page: int
) -> dict[str, Any]:
    """One page as a model reads it alone: the header of the account that begins on it (the
    first account on the document's first page), and every account's rows printed on it."""
    starts = [first_page] + [
        min((row["page"] for row in account["transactions"]), default=None)
        for account in accounts[1:]
    ]
    beginning = next((a for a, start in zip(accounts, starts, strict=True) if start == page), None)
    header = {name: beginning[name] if beginning else None for name in HEADER_FIELDS}
    rows = [row for account in accounts for row in account["transactions"] if row["page"] == page]
    return {**header, "transactions": rows}


def build_oracle_index(
    fixtures: Iterable[Path | str], dpi: int | Sequence[int] = 200
) -> dict[str, dict[str, Any]]:
    """``{sha256 of the page image as sent: {"truth", "markdown", "source"}}`` for every page of
    every fixture, at each DPI in ``dpi`` (extra passes may re-read at a higher one)."""
    dpis = (dpi,) if isinstance(dpi, int) else tuple(dpi)
    index: dict[str, dict[str, Any]] = {}
    for fixture in map(Path, fixtures):
        accounts = load_accounts(fixture)
        with open_document(fixture) as document:
            numbers = document.page_numbers
            for number in numbers:
                entry = accounts_page_truth(accounts, number, numbers[0])
                markdown = page_markdown(entry, f"{number}/{len(numbers)}")
                for each_dpi in dpis:
                    digest = hashlib.sha256(page_png(document, number, each_dpi)).hexdigest()
                    index[digest] = {
                        "truth": entry,
                        "markdown": markdown,
                        "source": f"{fixture.name}#{number}@{each_dpi}",
                    }
    return index


def read_page_entry(image: bytes, ocr: OcrEngine | None = None) -> dict[str, Any]:
    """The oracle entry for one page image, read by the embedded engine (OCR: an image has no
    text layer): by default as the engine reads, or by the one OCR engine ``ocr`` alone. Its
    rows carry no ``page``: an image alone does not say where it sits in a document. A page the
    engine cannot read (no statement table on it, or OCR failed) reads as a statement without
    rows, as a model answers one: what the page prints outside a table (period, account,
    balances), with the reason under ``problem``. Raises ValueError when the image cannot be
    decoded."""
    # open_document reads files: a private temporary one (mode 0600), as a page is statement
    # content. Its format is found from the bytes, whatever the name.
    problem = None
    with tempfile.NamedTemporaryFile(prefix="dualread-reader-") as handle:
        handle.write(image)
        handle.flush()
        try:
            with open_document(handle.name) as document:
                if ocr is None:
                    candidate = read_embedded(document)
                else:
                    candidate = read_embedded(document, ocr=ocr, second_opinion=False)
                truth = candidate.statement.to_json_dict()
        except DocumentError as error:
            raise ValueError(f"page image: {error.problem}") from None
        except EmbeddedReadError as error:
            # A page with no table (a summary page) still says what it prints outside one, as
            # a model's answer would: period, account, balances.
            header = error.header
            truth = header.to_json_dict() if header is not None else empty_statement()
            problem = str(error).removeprefix(f"{handle.name}: ")
    for row in truth["transactions"]:
        row["page"] = None
    entry = {"truth": truth, "markdown": page_markdown(truth), "source": "reader"}
    return entry if problem is None else {**entry, "problem": problem}


def write_oracle_index(index: dict[str, dict[str, Any]], path: Path) -> Path:
    """Write ``index`` as JSON, readable only by its owner (it holds statement content)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(index, handle, ensure_ascii=False)
    return path
