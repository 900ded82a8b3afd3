"""Telling a file's accounts apart: by the identifiers and the currency their headings name."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dualread.stages.embedded.accounts import account_heading, starts_new_account
from dualread.stages.embedded.layout import Line
from dualread.stages.embedded.reader import read_statement
from tests.stages.embedded.conftest import line_at

pytestmark = pytest.mark.unit

PAGE_HEIGHT = 842.0
HEADER = ((40, "Date"), (120, "Description"), (330, "Debit"), (400, "Credit"), (480, "Balance"))


def _page(heading: str, *bookings: tuple[str, str, str, str, str]) -> list[Line]:
    """A heading line, the column header and one line per (date, text, debit, credit, balance)."""
    lines = [line_at(40, (40, heading)), line_at(100, *HEADER)]
    for offset, (date, text, debit, credit, balance) in enumerate(bookings):
        cells = [(40, date), (120, text), (330, debit), (400, credit), (480, balance)]
        lines.append(line_at(115 + 15 * offset, *((x, t) for x, t in cells if t)))
    return lines


def test_a_heading_names_identifiers_and_its_one_currency() -> None:
    heading = account_heading([line_at(40, (40, "Account 12345678 - all amounts in USD"))])
    assert heading.identifiers == {"12345678"} and heading.currency == "USD"
    two = account_heading([line_at(40, (40, "Rates: 1 EUR = 1.08 USD"))])
    assert two.currency is None  # an exchange-rate note names no one account's currency


def test_what_starts_a_new_account() -> None:
    same = account_heading([line_at(40, (40, "Account 12345678 EUR"))])
    other = account_heading([line_at(40, (40, "Account 87654321 EUR"))])
    in_usd = account_heading([line_at(40, (40, "Account 12345678 USD"))])
    silent = account_heading([line_at(40, (40, "Page 2"))])
    assert not starts_new_account({"12345678"}, "EUR", same)
    assert starts_new_account({"12345678"}, "EUR", other)
    assert starts_new_account({"12345678"}, "EUR", in_usd)  # one account number, two currencies
    assert not starts_new_account({"12345678"}, "EUR", silent)
    assert not starts_new_account({"12345678"}, None, in_usd)  # nothing to compare it with


def test_one_account_number_in_two_currencies_is_two_accounts() -> None:
    pages = [
        (1, _page("Account 12345678 EUR", ("02/07/2025", "Coffee", "3.00", "", "97.00"))),
        (2, _page("Account 12345678 USD", ("03/07/2025", "Interest", "", "1.00", "501.00"))),
    ]
    reading = read_statement(pages, PAGE_HEIGHT)
    assert [a.statement.currency for a in reading.accounts] == ["EUR", "USD"]
    assert [a.statement.transactions[0].amount for a in reading.accounts] == [
        Decimal("-3.00"),
        Decimal("1.00"),
    ]


def test_two_periods_of_the_same_account_stay_one_statement() -> None:
    pages = [
        (1, _page("Account 12345678 - February", ("02/02/2025", "Coffee", "3.00", "", "97.00"))),
        (2, _page("Account 12345678 - March", ("03/03/2025", "Salary", "", "10.00", "107.00"))),
    ]
    reading = read_statement(pages, PAGE_HEIGHT)
    assert len(reading.accounts) == 1
    assert [t.balance for t in reading.primary.statement.transactions] == [
        Decimal("97.00"),
        Decimal("107.00"),
    ]


def test_each_account_is_named_by_the_identifier_only_its_heading_prints() -> None:
    """Every page prints the customer number; each account's table is headed by its own number
    (the second starts under the first's totals), which no 'Account number:' label names."""
    page1 = [
        line_at(20, (40, "Customer 98966767 HKD")),
        line_at(40, (40, "Current Account 817-890692-838")),
        line_at(100, *HEADER),
        line_at(115, (40, "02/07/2025"), (120, "Fee"), (330, "3.00"), (480, "97.00")),
        line_at(130, (40, "Total"), (330, "3.00")),
        line_at(160, (40, "Savings Account 817-890692-001")),
        line_at(200, *HEADER),
        line_at(215, (40, "03/07/2025"), (120, "Interest"), (400, "1.00"), (480, "501.00")),
    ]
    page2 = [
        line_at(20, (40, "Customer 98966767 HKD")),
        *_page("Savings Account 817-890692-001", ("04/07/2025", "Fee", "2.00", "", "499.00")),
    ]
    reading = read_statement([(1, page1), (2, page2)], PAGE_HEIGHT)
    assert [a.statement.account_number for a in reading.accounts] == [
        "817-890692-838",
        "817-890692-001",
    ]
    assert [len(a.statement.transactions) for a in reading.accounts] == [1, 2]
    assert [a.statement.currency for a in reading.accounts] == ["HKD", "HKD"]


def test_dates_are_no_account_identifiers() -> None:
    """Two periods' headings name other dates: the same account, not two."""
    first = account_heading([line_at(40, (40, "Statement 2026-01-01 to 2026-01-31"))])
    assert first.identifiers == frozenset()
    pages = [
        (1, _page("Statement 2025-02-01 to 2025-02-28", ("02/02/2025", "Fee", "3.00", "", "97"))),
        (2, _page("Statement 2025-03-01 to 2025-03-31", ("03/03/2025", "Pay", "", "10", "107"))),
    ]
    assert len(read_statement(pages, PAGE_HEIGHT).accounts) == 1
