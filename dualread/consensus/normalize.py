"""Readings in the form consensus compares them: header values keyed, statements canonical.

Two readers of the same statement rarely write a value the same way (``1.234,56`` against
``1234.56 EUR``, ``DE89 3704`` against ``DE893704``). The parsing itself is
:mod:`dualread.parsing`, shared with the embedded engine; this module adds what only the
comparison needs.
"""

from __future__ import annotations

import re
import unicodedata

from dualread.parsing import (
    is_carried_forward,
    normalize_description,
    normalize_iban,
    year_in_period,
)
from dualread.statement import Statement

_COMPACT_FIELDS = frozenset({"account_number", "iban", "bic"})


def field_key(field: str, value: object) -> object:
    """The form a header value is compared in: identifiers without spaces or punctuation and
    upper-cased, other text normalised like descriptions, dates and money as they are."""
    if not isinstance(value, str):
        return value
    if field in _COMPACT_FIELDS:
        return re.sub(r"[\W_]", "", value).upper()
    return normalize_description(value)


def normalize_statement(statement: Statement) -> Statement:
    """A reader's statement in canonical form, ready to compare with another reader's.

    IBANs are compacted and kept only when mod-97 holds; BIC and currency upper-cased; text
    whitespace collapsed (case kept: it is what the output shows); carried-forward rows dropped;
    a date a reader gave the wrong year (one printed without it) moved into the period, as the
    embedded engine reads such dates.
    """
    start, end = statement.period_start, statement.period_end
    iban = None if statement.iban is None else normalize_iban(statement.iban)
    header = {
        "bank_name": _clean_text(statement.bank_name),
        "account_holder": _clean_text(statement.account_holder),
        "account_number": _clean_text(statement.account_number),
        "iban": iban,
        "bic": None if statement.bic is None else re.sub(r"\s", "", statement.bic).upper() or None,
        "currency": None if statement.currency is None else statement.currency.strip().upper(),
    }
    rows = [
        row.model_copy(
            update={
                "date": year_in_period(row.date, start, end),
                "value_date": None
                if row.value_date is None
                else year_in_period(row.value_date, start, end),
                "description": " ".join(row.description.split()),
                "counterparty": _clean_text(row.counterparty),
                "reference": _clean_text(row.reference),
            }
        )
        for row in statement.transactions
        if not is_carried_forward(row.description)
    ]
    return statement.model_copy(update={**header, "transactions": rows})


def _clean_text(value: str | None) -> str | None:
    if value is None:
        return None
    return " ".join(unicodedata.normalize("NFKC", value).split()) or None
