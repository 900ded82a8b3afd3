"""A person's corrections, applied to a result as a new revision.

A correction names a header field, or a row and one of its parts (``row`` itself for a disputed
row's presence), and the value the person chose: one route's value, or one they typed. Typed money
and dates are read like the statement's own (``1.234,56``, ``12.03.2024``). The settled disputes
leave ``extraction.disputes`` and are listed, with who and when, under
``extraction.corrections``; the arithmetic is checked again at once. A file of several accounts
has a statement per account; a request corrects one of them, which it names.

Status after review: a person settling every value dispute does not by itself make a statement
``resolved``; the arithmetic must confirm it (``ok`` true). Until then an ``unresolved`` or
``unverified`` statement keeps its status.
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dualread.arithmetic import check
from dualread.parsing import is_carried_forward, parse_amount, parse_date
from dualread.statement import (
    HEADER_FIELDS,
    SchemaError,
    Statement,
    format_money,
    validate_document,
)

MONEY_FIELDS = frozenset({"opening_balance", "closing_balance", "amount", "balance"})
DATE_FIELDS = frozenset({"period_start", "period_end", "date", "value_date"})
ROW_FIELDS = ("date", "value_date", "description", "counterparty", "reference", "amount", "balance")
ROW_PRESENCE = "row"  # the dispute field for "is this row there at all"
CONFIRMED_BY_PERSON = 1.0


class Correction(BaseModel):
    """One value a person settled. ``row`` is None for a header field."""

    model_config = ConfigDict(extra="forbid")

    field: str
    row: int | None = None
    value: Any = None  # a string, null, or for ``row`` a transaction object (null: no such row)


class RevisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base: int = Field(description="The revision these corrections were made on (the latest).")
    author: str = Field(min_length=1, max_length=100)
    corrections: list[Correction] = Field(min_length=1)
    account: int | None = Field(
        default=None,
        ge=1,
        description="The account whose statement they correct, as its extraction.account.index "
        "(1 for the first); needed when the file holds several.",
    )


class CorrectionError(ValueError):
    """A correction that cannot apply; the message is one line for the person."""


def _typed_value(field: str, value: Any, statement: dict[str, Any]) -> Any:
    """The JSON value a typed or chosen value stands for, or :class:`CorrectionError`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise CorrectionError(f"{field}: expected text or null, got {type(value).__name__}")
    text = value.strip()
    if field in MONEY_FIELDS:
        amount = parse_amount(text)
        if amount is None:
            raise CorrectionError(f"{field}: {text!r} is not an amount")
        return format_money(amount)
    if field in DATE_FIELDS:
        period = [statement.get("period_start"), statement.get("period_end")]
        start, end = (dt.date.fromisoformat(p) if p else None for p in period)
        date = parse_date(text, period_start=start, period_end=end)
        if date is None:
            raise CorrectionError(f"{field}: {text!r} is not a date")
        return date.isoformat()
    return text


def _apply(document: dict[str, Any], correction: Correction) -> dict[str, Any]:
    """Change ``document`` in place; return the change as recorded (with the previous value)."""
    field, row = correction.field, correction.row
    rows: list[dict[str, Any]] = document["transactions"]
    record = document["extraction"]
    confidence = record.setdefault("confidence", {})
    if row is None:
        if field not in HEADER_FIELDS:
            raise CorrectionError(f"{field}: not a header field")
        previous = document.get(field)
        document[field] = _typed_value(field, correction.value, document)
        confidence.setdefault("fields", {})[field] = CONFIRMED_BY_PERSON
        return {"field": field, "row": None, "previous": previous, "value": document[field]}
    if not 0 <= row < len(rows):
        raise CorrectionError(f"row {row} does not exist (the statement has {len(rows)} rows)")
    row_confidence: list[float] = confidence.setdefault("transactions", [])
    if field == ROW_PRESENCE:
        previous = rows[row]
        if correction.value is None:  # the row is not on the statement
            del rows[row]
            if row < len(row_confidence):
                del row_confidence[row]
            _shift_rows(record, after=row)
            return {"field": field, "row": row, "previous": previous, "value": None}
        if not isinstance(correction.value, dict):
            raise CorrectionError("row: expected a transaction object or null")
        rows[row] = dict(correction.value)
        value: Any = rows[row]
    elif field in ROW_FIELDS:
        previous = rows[row].get(field)
        rows[row][field] = _typed_value(field, correction.value, document)
        value = rows[row][field]
    else:
        raise CorrectionError(f"{field}: not a part of a transaction")
    if row < len(row_confidence):
        row_confidence[row] = CONFIRMED_BY_PERSON
    return {"field": field, "row": row, "previous": previous, "value": value}


def _shift_rows(record: dict[str, Any], *, after: int) -> None:
    """A removed row: disputes on later rows now point one row up."""
    for dispute in record.get("disputes", []):
        if dispute.get("row") is not None and dispute["row"] > after:
            dispute["row"] -= 1


def _settled(dispute: dict[str, Any], change: dict[str, Any]) -> bool:
    if dispute.get("row") != change["row"]:
        return False
    if change["field"] == ROW_PRESENCE:
        return True  # the person decided the whole row
    return bool(dispute.get("field") == change["field"])


def revise(
    document: dict[str, Any], corrections: list[Correction], author: str, at: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The revised document and the recorded changes; the input document is not changed."""
    revised = copy.deepcopy(document)
    record = revised["extraction"]
    changes = []
    for correction in corrections:
        removed_row = correction.field == ROW_PRESENCE and correction.value is None
        change = _apply(revised, correction) | {"author": author, "at": at}
        record["disputes"] = [
            d
            for d in record.get("disputes", [])
            if not _settled(d, change) and not (removed_row and d.get("row") == correction.row)
        ]
        changes.append(change)
    statement = _statement(revised)
    report = check(statement)
    record["arithmetic"] = report.to_dict()
    values_open = any(d.get("severity", "value") == "value" for d in record["disputes"])
    if values_open or report.ok is False:
        record["status"] = "unresolved"
    elif record["status"] in ("unresolved", "unverified") and report.ok:
        record["status"] = "resolved"
    record["corrections"] = [*record.get("corrections", []), *changes]
    try:
        validate_document(revised)
    except SchemaError as error:
        raise CorrectionError(str(error)) from None
    return revised, changes


def account_position(documents: list[dict[str, Any]], account: int | None) -> int:
    """Where the account a request names (1-based; None for a file's only one) sits in
    ``documents``, or :class:`CorrectionError`."""
    count = len(documents)
    if account is None and count > 1:
        raise CorrectionError(f"the file holds {count} accounts: say which (account 1 to {count})")
    if account is not None and account > count:
        raise CorrectionError(f"account {account} does not exist (the file holds {count})")
    return 0 if account is None else account - 1


def revise_account(
    documents: list[dict[str, Any]], request: RevisionRequest, at: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every account's statement with the request's corrections made to the one it names, and
    the recorded changes, each saying which account it changed."""
    position = account_position(documents, request.account)
    revised, changes = revise(documents[position], request.corrections, request.author, at)
    statements = [*documents[:position], revised, *documents[position + 1 :]]
    return statements, [change | {"account": position + 1} for change in changes]


def _statement(document: dict[str, Any]) -> Statement:
    body = {k: v for k, v in document.items() if k not in ("schema_version", "extraction")}
    try:
        return Statement.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CorrectionError(f"{where}: {first['msg']}") from None


def live_totals(document: dict[str, Any]) -> dict[str, str | bool | None]:
    """Opening + sum of amounts = closing, as the review page shows it (carried-forward lines
    are not transactions and do not count, as in the arithmetic check)."""
    statement = _statement(document)
    counted = [t for t in statement.transactions if not is_carried_forward(t.description)]
    total = sum((t.amount for t in counted), Decimal(0))
    opening, closing = statement.opening_balance, statement.closing_balance
    expected = None if opening is None else opening + total
    return {
        "opening": None if opening is None else format_money(opening),
        "sum": format_money(total),
        "expected_closing": None if expected is None else format_money(expected),
        "closing": None if closing is None else format_money(closing),
        "ok": None if expected is None or closing is None else expected == closing,
    }


def _label(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, dict):  # a whole row: a row's presence was disputed
        return " ".join(str(value.get(k) or "") for k in ("date", "amount", "description")).strip()
    return str(value)


def dispute_choices(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The open disputes as the review page offers them: each distinct value once, with every
    route and pass that read it, the value dualread kept marked."""
    shown = []
    for index, dispute in enumerate(document.get("extraction", {}).get("disputes", [])):
        choices: list[dict[str, Any]] = []
        for candidate in dispute.get("candidates", []):
            value = candidate.get("value")
            who = f"{candidate.get('route', '?')} {candidate.get('pass', '')}".strip()
            for choice in choices:
                if choice["value"] == value:
                    choice["who"].append(who)
                    break
            else:
                choices.append({"value": value, "label": _label(value), "who": [who]})
        for choice in choices:
            choice["kept"] = choice["value"] == dispute.get("chosen")
        shown.append(
            {
                "index": index,
                "field": dispute.get("field"),
                "row": dispute.get("row"),
                "page": dispute.get("page"),
                "severity": dispute.get("severity", "value"),
                "chosen": dispute.get("chosen"),
                "choices": choices,
            }
        )
    return shown
