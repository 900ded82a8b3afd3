"""Telling a file's accounts apart: each account is its own statement.

Statements print several accounts in one file (a current account and a savings account, one
account per currency), each under a heading that names it: an IBAN, an account number, the
account's currency. The reader asks :func:`starts_new_account` at every table header whether
the heading above it names another account than the table before; two periods of the same
account (consecutive monthly statements in one PDF) name the same one and stay one statement.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from dualread.parsing import normalize_iban
from dualread.stages.embedded.header import HeaderFields
from dualread.stages.embedded.layout import Line
from dualread.stages.embedded.vocabulary import ISO_CURRENCIES
from dualread.statement import Statement

_ACCOUNT_ID = re.compile(r"^[A-Z]{0,4}\d[\d\- ]{6,}\d$")
# A date has the shape of a long digit group too, but names a period, never an account.
_DATE = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}-\d{1,2}-\d{4})$")
_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")


@dataclass(frozen=True)
class AccountHeading:
    """What the lines above a table say about whose table it is."""

    identifiers: frozenset[str]  # valid IBANs and long digit groups
    currency: str | None  # the one currency code the lines name, if exactly one


def account_heading(lines: Sequence[Line]) -> AccountHeading:
    identifiers: set[str] = set()
    currencies: set[str] = set()
    for line in lines:
        for word in line.words:
            token = word.text.strip(":,;()")
            digits = sum(ch.isdigit() for ch in token)
            if _ACCOUNT_ID.match(token) and digits >= 8 and not _DATE.match(token):
                identifiers.add(token.replace(" ", ""))
            if token in ISO_CURRENCIES:
                currencies.add(token)
        for match in _IBAN.finditer(line.text.replace(" ", "")):
            iban = normalize_iban(match.group())
            if iban:
                identifiers.add(iban)
    # Several codes (an exchange-rate note, a summary in two currencies) name no one account.
    currency = next(iter(currencies)) if len(currencies) == 1 else None
    return AccountHeading(frozenset(identifiers), currency)


def starts_new_account(
    identifiers: set[str], currency: str | None, heading: AccountHeading
) -> bool:
    """Whether a table under ``heading`` belongs to another account than the one read so far
    (``identifiers`` and ``currency`` its headings named): it names only other identifiers, or
    another currency. A heading that names nothing continues the account above."""
    if heading.identifiers and heading.identifiers.isdisjoint(identifiers):
        return True
    return None not in (heading.currency, currency) and heading.currency != currency


def named_by_heading(
    fields: HeaderFields, identifiers: set[str], currency: str | None, others: set[str]
) -> HeaderFields:
    """The header of one account of a file of several, where its header block leaves it
    unnamed: the one identifier its headings name and no other account's do ('Savings Account
    817-890692-001' under a page header every account shares), and its heading's currency."""
    own = identifiers - others
    if fields.iban is None and fields.account_number is None and len(own) == 1:
        (name,) = own
        iban = normalize_iban(name)
        fields = replace(fields, iban=iban) if iban else replace(fields, account_number=name)
    if fields.currency is None and currency is not None:
        fields = replace(fields, currency=currency)
    return fields


def has_content(statement: Statement) -> bool:
    """An account section worth a statement: it has rows, or prints a balance (an account
    without bookings this period). A heading over no table and no balance says nothing."""
    return bool(statement.transactions) or (
        statement.opening_balance is not None or statement.closing_balance is not None
    )
