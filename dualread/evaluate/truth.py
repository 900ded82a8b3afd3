"""Ground truth: find it beside a document, and read it from our schema or a foreign one.

A document ``X.pdf`` (or ``.jpg``...) has its truth in ``X.truth.json`` (our output schema: one
statement, or for a file of several accounts an array of them, one per account) or
``X-expected.json`` (the Postbank demo's schema, from sschuberth/stan); the real-world devset's
``X.truth.json`` is our schema plus annotations (``source``, ``bank``, ``traps``...), which are
set aside; it states only some header fields, and each description's first printed line. A
``manifest.json`` in the same folder (the generator writes one) supplies each case's password and
variant.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dualread.statement import (
    HEADER_FIELDS,
    SchemaError,
    Statement,
    Transaction,
    validate_accounts,
    validate_document,
)

DOCUMENT_SUFFIXES = frozenset({".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp"})
TRUTH_SUFFIXES = (".truth.json", "-expected.json")
# Header fields the Postbank demo's expected JSON states; the rest are unknown, not null.
POSTBANK_FIELDS = (
    "iban",
    "bic",
    "period_start",
    "period_end",
    "opening_balance",
    "closing_balance",
)

# The devset's annotations beside our schema's keys (../shared/realworld/README.md): provenance
# and notes for people, not statement content.
DEVSET_ANNOTATIONS = frozenset({"source", "bank", "traps", "complete", "reconciles", "statements"})
# Header fields the devset's truth states; the rest (holder, account number...) are not
# transcribed there, so they are unknown, not null.
DEVSET_FIELDS = (
    "currency",
    "period_start",
    "period_end",
    "opening_balance",
    "closing_balance",
)


class TruthError(ValueError):
    """Truth that cannot be found or read; ``str()`` is one line naming the file."""


@dataclass(frozen=True)
class Truth:
    """What a document really says, and which header fields that covers.

    ``known_fields``: in our schema every header field is stated (null means "not printed");
    a foreign schema states only some, and header accuracy counts only those.
    """

    statement: Statement  # the file's first account (or its only one)
    known_fields: tuple[str, ...]
    path: Path
    # The devset transcribes each description's first printed line only.
    first_line_descriptions: bool = False
    other_accounts: tuple[Statement, ...] = ()  # the file's further accounts, in print order

    @property
    def accounts(self) -> tuple[Statement, ...]:
        return (self.statement, *self.other_accounts)


@dataclass(frozen=True)
class Case:
    """One document to evaluate, with its truth and what the manifest says about it."""

    document: Path
    truth: Truth
    password: str | None = None
    group: str = "-"  # the manifest's group, else its variant (digital, scan...), else the folder


def truth_path_for(document: Path) -> Path | None:
    for suffix in TRUTH_SUFFIXES:
        candidate = document.with_name(document.stem + suffix)
        if candidate.is_file():
            return candidate
    return None


def statement_from_document(document: dict[str, Any]) -> Statement:
    """Our schema's document (``schema_version`` and ``extraction`` allowed) -> Statement."""
    body = {k: v for k, v in document.items() if k not in ("schema_version", "extraction")}
    return Statement.model_validate(body)


def _money(value: float | int | str) -> Decimal:
    # Through str(): the float 154.0 or 1830 must become exactly 154.0 / 1830, not a binary
    # approximation.
    return Decimal(str(value))


def _from_postbank(data: dict[str, Any]) -> tuple[Statement, tuple[str, ...]]:
    """The Postbank demo's expected JSON (bankId=BIC, accountId=IBAN, bookings[...])."""
    rows = [
        Transaction(
            date=booking["postDate"],
            value_date=booking.get("valueDate"),
            description=" ".join(" ".join(line.split()) for line in booking.get("info", [])),
            amount=_money(booking["amount"]),
        )
        for booking in data["bookings"]
    ]
    statement = Statement(
        iban=data.get("accountId"),
        bic=data.get("bankId"),
        period_start=data.get("fromDate"),
        period_end=data.get("toDate"),
        opening_balance=_money(data["balanceOld"]),
        closing_balance=_money(data["balanceNew"]),
        transactions=rows,
    )
    return statement, POSTBANK_FIELDS


def load_truth(path: Path) -> Truth:
    """Read a truth file in either format; raise :class:`TruthError` with a one-line reason."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise TruthError(f"{path}: unreadable truth file ({error})") from None
    if not isinstance(data, (dict, list)):
        raise TruthError(f"{path}: truth must be a JSON object, or an array of one per account")
    try:
        if isinstance(data, list):  # a file of several accounts: our schema's $defs/statements
            validate_accounts(data)
            accounts = [statement_from_document(document) for document in data]
            return Truth(accounts[0], HEADER_FIELDS, path, other_accounts=tuple(accounts[1:]))
        if "bookings" in data:
            statement, known = _from_postbank(data)
        elif DEVSET_ANNOTATIONS & data.keys():
            body = {k: v for k, v in data.items() if k not in DEVSET_ANNOTATIONS}
            statement, known = statement_from_document(body), DEVSET_FIELDS
        else:
            validate_document(data)
            statement, known = statement_from_document(data), HEADER_FIELDS
    except SchemaError as error:
        raise TruthError(f"{path}: {error}") from None
    except (ValidationError, KeyError, TypeError, ArithmeticError) as error:
        first = str(error).splitlines()[0]
        raise TruthError(f"{path}: not a statement truth file ({first})") from None
    return Truth(statement, known, path, first_line_descriptions=known == DEVSET_FIELDS)


def _manifest_entries(folder: Path) -> dict[str, dict[str, Any]]:
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return {}
    try:
        cases = json.loads(manifest.read_text(encoding="utf-8")).get("cases", [])
        return {str(entry["file"]): entry for entry in cases}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise TruthError(f"{manifest}: unreadable manifest ({error})") from None


def case_for(document: Path) -> Case:
    """The case for one document; :class:`TruthError` when it has no readable truth."""
    truth_path = truth_path_for(document)
    if truth_path is None:
        raise TruthError(
            f"{document}: no ground truth beside it (expected {document.stem}.truth.json "
            f"or {document.stem}-expected.json)"
        )
    entry = _manifest_entries(document.parent).get(document.name, {})
    password = entry.get("password")
    group = str(entry.get("group") or entry.get("variant") or document.parent.name or "-")
    return Case(document, load_truth(truth_path), password, group)


def find_cases(paths: list[Path]) -> list[Case]:
    """Cases for files and folders. Folders are searched recursively for documents that have a
    truth file; a file named explicitly must have one."""
    cases: list[Case] = []
    for path in paths:
        if path.is_dir():
            documents = sorted(
                p
                for p in path.rglob("*")
                if p.suffix.lower() in DOCUMENT_SUFFIXES and p.is_file() and truth_path_for(p)
            )
            cases += [case_for(document) for document in documents]
        elif path.is_file():
            cases.append(case_for(path))
        else:
            raise TruthError(f"{path}: no such file or folder")
    return cases
