"""The rule-based reader on hand-made pages: each layout rule, one test."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from dualread.stages.embedded.layout import Line
from dualread.stages.embedded.reader import NoStatementTableError, read_statement
from tests.stages.embedded.conftest import line_at

pytestmark = pytest.mark.unit

PAGE_HEIGHT = 842.0
EN_HEADER = ((40, "Date"), (120, "Description"), (330, "Debit"), (400, "Credit"), (480, "Balance"))


def rows(*specs: tuple[float, tuple[tuple[float, str], ...]]) -> list[Line]:
    return [line_at(top, *cells) for top, cells in specs]


def test_debit_credit_multiline_and_carried_forward_rows() -> None:
    page1 = rows(
        (40, ((40, "Account holder: Ann Smith"),)),
        (52, ((40, "IBAN: GB33 BUKB 2020 1555 5555 55"),)),
        (64, ((40, "Statement period: 01/03/2024 to 31/03/2024"),)),
        (100, EN_HEADER),
        (115, ((120, "Balance brought forward"), (480, "1,000.00"))),
        (130, ((40, "02/03/2024"), (120, "Card payment"), (330, "45.10"), (480, "954.90"))),
        (141, ((120, "CORNER SHOP 12"),)),
        (156, ((40, "05/03/2024"), (120, "Salary"), (400, "250.00"), (480, "1,204.90"))),
        (171, ((120, "Balance carried forward"), (480, "1,204.90"))),
        (800, ((40, "Page 1 of 2"),)),
    )
    page2 = rows(
        (100, EN_HEADER),
        (115, ((120, "Balance brought forward"), (480, "1,204.90"))),
        (130, ((40, "14/03/2024"), (120, "Rent"), (330, "1,200.00"), (480, "4.90"))),
        (145, ((120, "Closing balance"), (480, "4.90"))),
    )
    reading = read_statement([(1, page1), (2, page2)], PAGE_HEIGHT)
    statement = reading.primary.statement
    assert [(t.date, t.amount, t.balance, t.page) for t in statement.transactions] == [
        (dt.date(2024, 3, 2), Decimal("-45.10"), Decimal("954.90"), 1),
        (dt.date(2024, 3, 5), Decimal("250.00"), Decimal("1204.90"), 1),
        (dt.date(2024, 3, 14), Decimal("-1200.00"), Decimal("4.90"), 2),
    ]
    assert statement.transactions[0].description == "Card payment CORNER SHOP 12"
    assert statement.opening_balance == Decimal("1000.00")
    assert statement.closing_balance == Decimal("4.90")
    assert statement.account_holder == "Ann Smith"
    assert statement.iban == "GB33BUKB20201555555555"
    assert (statement.period_start, statement.period_end) == (
        dt.date(2024, 3, 1),
        dt.date(2024, 3, 31),
    )
    assert len(reading.accounts) == 1


def test_date_printed_once_per_day_and_totals_end_the_table() -> None:
    header = ((40, "Date"), (120, "Details"), (420, "Amount"))
    page = rows(
        (100, header),
        (115, ((40, "01.02.2024"), (120, "Bakery"), (420, "-3,50"))),
        (127, ((120, "Butcher"), (420, "-12,00"))),
        (142, ((40, "02.02.2024"), (120, "Refund"), (420, "8,00"))),
        (157, ((40, "Total"), (420, "-7,50"))),
        (172, ((120, "Bonus"), (420, "99,00"))),  # after the totals: not part of any table
    )
    statement = read_statement([(1, page)], PAGE_HEIGHT).primary.statement
    assert [(t.date.day, t.description, t.amount) for t in statement.transactions] == [
        (1, "Bakery", Decimal("-3.50")),
        (1, "Butcher", Decimal("-12.00")),
        (2, "Refund", Decimal("8.00")),
    ]


def test_a_page_without_header_continues_the_table() -> None:
    header = ((40, "Date"), (150, "Counterparty"), (250, "Description"), (500, "Amount"))
    page1 = rows(
        (100, header),
        (115, ((40, "22 okt"), (150, "HEMA"), (250, "OVERSCHRIJVING"), (500, "-25,75 €"))),
        (125, ((40, "No rights can be derived from this overview."),)),
    )
    page2 = rows(
        (40, ((150, "NL61HEMA5238250191"),)),
        (60, ((40, "23 okt"), (150, "KRUIDVAT"), (250, "IDEAL"), (500, "-2.572,95 €"))),
    )
    statement = read_statement(
        [(1, [line_at(20, (40, "Balance as of 01.10.2025: 15.320,00 €")), *page1]), (2, page2)],
        PAGE_HEIGHT,
    ).primary.statement
    assert [(t.counterparty, t.amount, t.page) for t in statement.transactions] == [
        ("HEMA NL61HEMA5238250191", Decimal("-25.75"), 1),
        ("KRUIDVAT", Decimal("-2572.95"), 2),
    ]
    assert statement.transactions[0].date == dt.date(2025, 10, 22)


def test_a_date_at_the_start_of_the_details() -> None:
    header = ((40, "Détails"), (272, "Débit"), (380, "Crédit"), (523, "Solde"))
    page = rows(
        (20, ((40, "Période 1 avril 2025 - 30 avril 2025"),)),
        (100, header),
        (115, ((40, "03 avr. 25 METRO EPICERIE"), (310, "87,09 $"), (513, "10 662,91 $"))),
        (130, ((40, "07 avr. 25 DEPOT PAIE"), (420, "86,84 $"), (513, "10 749,75 $"))),
        (150, ((40, "Frais sur compte: 23,00 $"),)),
    )
    statement = read_statement([(1, page)], PAGE_HEIGHT).primary.statement
    assert [(t.date, t.description, t.amount, t.balance) for t in statement.transactions] == [
        (dt.date(2025, 4, 3), "METRO EPICERIE", Decimal("-87.09"), Decimal("10662.91")),
        (dt.date(2025, 4, 7), "DEPOT PAIE", Decimal("86.84"), Decimal("10749.75")),
    ]


def test_a_second_account_is_a_second_reading() -> None:
    page1 = rows(
        (40, ((40, "Current Account 817-890692-838"),)),
        (100, EN_HEADER),
        (115, ((40, "02/07/2025"), (120, "Coffee"), (330, "3.00"), (480, "97.00"))),
        (200, ((40, "Savings Account 817-890692-001"),)),
        (215, EN_HEADER),
        (230, ((40, "03/07/2025"), (120, "Interest"), (400, "1.00"), (480, "501.00"))),
    )
    page2 = rows(
        (40, ((40, "Savings Account 817-890692-001 (Continued)"),)),
        (60, EN_HEADER),
        (75, ((40, "04/07/2025"), (120, "Transfer"), (330, "50.00"), (480, "451.00"))),
    )
    reading = read_statement([(1, page1), (2, page2)], PAGE_HEIGHT)
    assert [len(a.statement.transactions) for a in reading.accounts] == [1, 2]


def test_card_statement_printed_from_the_issuers_view_is_negated() -> None:
    header = ((40, "Date"), (120, "Description"), (450, "Amount"))
    page = rows(
        (20, ((40, "Credit Card Statement"),)),
        (30, ((40, "Previous balance"), (450, "100.00"))),
        (40, ((40, "New balance"), (450, "150.00"))),
        (100, header),
        (115, ((40, "05/02/2025"), (120, "GROCERY STORE"), (450, "70.00"))),
        (130, ((40, "05/09/2025"), (120, "PAYMENT - THANK YOU"), (450, "-20.00"))),
    )
    reading = read_statement([(1, page)], PAGE_HEIGHT).primary
    statement = reading.statement
    assert reading.card_statement
    assert [t.amount for t in statement.transactions] == [Decimal("-70.00"), Decimal("20.00")]
    assert (statement.opening_balance, statement.closing_balance) == (
        Decimal("-100.00"),
        Decimal("-150.00"),
    )


def test_no_table_is_an_error() -> None:
    page = rows((40, ((40, "Dear customer, thank you for your letter of 3 May."),)))
    with pytest.raises(NoStatementTableError, match="no transaction table"):
        read_statement([(1, page)], PAGE_HEIGHT)


def test_a_page_without_a_table_still_says_what_its_header_prints() -> None:
    """A summary page: what a model would answer for it (no rows, the balances it prints)."""
    page = rows(
        (40, ((40, "Statement period: 01/07/2024 to 31/07/2024"),)),
        (60, ((40, "Beginning balance on 7/1 $13,216.58"),)),
        (80, ((40, "Ending balance on 7/31 $4,863.69"),)),
    )
    with pytest.raises(NoStatementTableError) as raised:
        read_statement([(1, page)], PAGE_HEIGHT)
    header = raised.value.header
    assert (header.opening_balance, header.closing_balance) == (
        Decimal("13216.58"),
        Decimal("4863.69"),
    )
    assert header.transactions == []


def test_columns_are_inferred_when_no_header_can_be_read() -> None:
    page = rows(
        (40, ((40, "Statement period: 01.11.2025 - 30.11.2025"),)),
        (100, ((40, "sn I sea ics AER EN"),)),  # a header OCR could not read
        (115, ((40, "30.11.2025"), (120, "Coffee"), (440, "-379,17"), (500, "215 251,13"))),
        (130, ((40, "26.11.2025"), (120, "Transfer in"), (440, "856,02"), (500, "215 630,30"))),
        (145, ((40, "26.11.2025"), (120, "Groceries"), (430, "-1 030,01"), (500, "214 774,28"))),
    )
    reading = read_statement([(1, page)], PAGE_HEIGHT)
    assert reading.columns_inferred
    statement = reading.primary.statement
    assert [(t.date.day, t.description, t.amount, t.balance) for t in statement.transactions] == [
        (30, "Coffee", Decimal("-379.17"), Decimal("215251.13")),
        (26, "Transfer in", Decimal("856.02"), Decimal("215630.30")),
        (26, "Groceries", Decimal("-1030.01"), Decimal("214774.28")),
    ]


def test_header_over_two_lines_in_another_language_with_money_in_first() -> None:
    # 'ENTRADA DE' over 'DINERO': a two-line header; money in is the left money column.
    lines = rows(
        (40, ((40, "Saldo inicial: 4,02"),)),
        (
            100,
            (
                (40, "FECHA"),
                (150, "DESCRIPCIÓN"),
                (330, "ENTRADA DE"),
                (400, "SALIDA DE"),
                (480, "BALANCE"),
            ),
        ),
        (109, ((330, "DINERO"), (400, "DINERO"))),
        (130, ((40, "01/05/2026"), (150, "Interest payment"), (330, "0,07"), (480, "4,09"))),
        (145, ((40, "10/05/2026"), (150, "COMERCIO"), (400, "15,00"), (480, "-10,91"))),
    )
    statement = read_statement([(1, lines)], PAGE_HEIGHT).primary.statement
    assert [(t.description, t.amount) for t in statement.transactions] == [
        ("Interest payment", Decimal("0.07")),
        ("COMERCIO", Decimal("-15.00")),
    ]


def test_date_title_spanning_over_the_description_start() -> None:
    # Untitled words between 'Date' and the description title widen the date column: the
    # words after the date are still the description.
    header = ((40, "Date Transaction type and details"), (330, "Withdrawals"), (480, "Balance"))
    lines = rows(
        (100, header),
        (
            130,
            ((40, "03 Feb 2026"), (100, "EFTPOS RIVERSIDE DAIRY"), (330, "12.40"), (480, "987.60")),
        ),
    )
    (row,) = read_statement([(1, lines)], PAGE_HEIGHT).primary.statement.transactions
    assert (row.date, row.description, row.amount) == (
        dt.date(2026, 2, 3),
        "EFTPOS RIVERSIDE DAIRY",
        Decimal("-12.40"),
    )


def test_currency_prefix_and_debit_credit_suffix_give_the_sign() -> None:
    header = ((40, "Data"), (120, "Descrição"), (330, "Valor"), (480, "Saldo"))
    lines = rows(
        (60, ((40, "Período: 01/08/2025 a 31/08/2025"),)),
        (100, header),
        (130, ((40, "01/08"), (120, "SALARIO"), (330, "R$ 5.000,00 C"), (480, "R$ 7.500,00"))),
        (145, ((40, "02/08"), (120, "PIX ENVIADO"), (330, "R$ 150,00 D"), (480, "R$ 7.350,00"))),
    )
    statement = read_statement([(1, lines)], PAGE_HEIGHT).primary.statement
    assert [(t.date, t.description, t.amount) for t in statement.transactions] == [
        (dt.date(2025, 8, 1), "SALARIO", Decimal("5000.00")),
        (dt.date(2025, 8, 2), "PIX ENVIADO", Decimal("-150.00")),
    ]


def test_card_statement_printing_only_unsigned_purchases() -> None:
    lines = rows(
        (40, ((40, "Credit Card Statement"),)),
        (100, ((40, "Date"), (120, "Description"), (430, "Amount"))),
        (130, ((40, "03-Oct-2025"), (120, "Fuel Payment - HP Petrol Pump"), (430, "1,500.00"))),
        (145, ((40, "08-Oct-2025"), (120, "Swiggy Order"), (430, "850.00"))),
    )
    statement = read_statement([(1, lines)], PAGE_HEIGHT).primary.statement
    assert [t.amount for t in statement.transactions] == [Decimal("-1500.00"), Decimal("-850.00")]


def test_description_words_inside_a_narrow_date_column_are_not_swallowed_by_an_iso_date() -> None:
    # A centred 'Date' title spans less than the dates under it; the description's first words
    # fall into the date cell, and '2003-10-14 Payroll Deposit' must not parse as one date.
    header = ((12, "Date"), (68, "Description"), (150, "Withdrawals"), (200, "Deposits"))
    lines = rows(
        (100, (*header, (250, "Balance"))),
        (115, ((5, "2003-10-08"), (60, "Previous balance"), (250, "0.55"))),
        (
            130,
            ((5, "2003-10-14"), (60, "Payroll Deposit HOTEL"), (200, "694.81"), (250, "695.36")),
        ),
    )
    statement = read_statement([(1, lines)], PAGE_HEIGHT).primary.statement
    (row,) = statement.transactions
    assert (row.description, row.amount) == ("Payroll Deposit HOTEL", Decimal("694.81"))
    assert statement.opening_balance == Decimal("0.55")


def test_a_debit_card_statement_is_read_as_an_account_when_its_balances_say_so() -> None:
    # "Debit Card Statement" names a card, but the balances rise with deposits: an account.
    header = ((40, "Date"), (120, "Description"), (330, "Withdrawals"), (400, "Deposits"))
    lines = rows(
        (40, ((40, "Debit Card Statement"),)),
        (52, ((40, "Opening Balance"), (400, "$4,500.25"))),
        (100, (*header, (480, "Balance"))),
        (130, ((40, "06-01-2021"), (120, "Parking"), (330, "$25.00"), (480, "$4,475.25"))),
        (145, ((40, "06-30-2021"), (120, "Refund"), (400, "$5.00"), (480, "$4,480.25"))),
    )
    reading = read_statement([(1, lines)], PAGE_HEIGHT).primary
    assert reading.card_statement is False
    assert reading.statement.opening_balance == Decimal("4500.25")
    assert [(t.date, t.amount) for t in reading.statement.transactions] == [
        (dt.date(2021, 6, 1), Decimal("-25.00")),
        (dt.date(2021, 6, 30), Decimal("5.00")),
    ]


SECTION_HEADER = ((40, "Date"), (120, "Description"), (450, "Amount"))


def typed_sections_page() -> list[Line]:
    """A US-style statement: bookings grouped by kind, amounts unsigned, totals per section."""
    return rows(
        (30, ((40, "Statement period: 03/01/2024 to 03/31/2024"),)),
        (42, ((40, "Beginning balance"), (450, "1,000.00"))),
        (54, ((40, "Ending balance"), (450, "1,139.50"))),
        (90, ((40, "DEPOSITS AND ADDITIONS"),)),
        (104, SECTION_HEADER),
        (118, ((40, "03/04"), (120, "Payroll"), (450, "1,500.00"))),
        (132, ((40, "Total Deposits and Additions"), (450, "$1,500.00"))),
        (160, ((40, "CHECKS PAID"),)),
        (174, SECTION_HEADER),
        (188, ((40, "03/07"), (120, "Check 1041"), (450, "310.50"))),
        (202, ((40, "Total Checks Paid"), (450, "$310.50"))),
        (230, ((40, "ATM & DEBIT CARD WITHDRAWALS"),)),
        (244, SECTION_HEADER),
        (258, ((40, "03/09"), (120, "Card purchase GROCER"), (450, "50.00"))),
        (272, ((40, "03/12"), (120, "ATM withdrawal"), (450, "1,000.00"))),
        (286, ((40, "Total ATM & Debit Card Withdrawals"), (450, "$1,050.00"))),
    )


def test_typed_sections_give_unsigned_amounts_their_sign() -> None:
    statement = read_statement([(1, typed_sections_page())], PAGE_HEIGHT).primary.statement
    assert [(t.date, t.amount) for t in statement.transactions] == [
        (dt.date(2024, 3, 4), Decimal("1500.00")),
        (dt.date(2024, 3, 7), Decimal("-310.50")),
        (dt.date(2024, 3, 9), Decimal("-50.00")),
        (dt.date(2024, 3, 12), Decimal("-1000.00")),
    ]
    assert (statement.opening_balance, statement.closing_balance) == (
        Decimal("1000.00"),
        Decimal("1139.50"),
    )


def test_the_arithmetic_turns_a_section_whose_title_says_the_wrong_way() -> None:
    """'Payments' is money in on a card and money out on an account: the balances decide."""
    page = rows(
        (42, ((40, "Opening balance"), (450, "500.00"))),
        (54, ((40, "Closing balance"), (450, "380.00"))),
        (90, ((40, "Payments"),)),
        (104, SECTION_HEADER),
        (118, ((40, "02/05/2024"), (120, "Electricity"), (450, "80.00"))),
        (132, ((40, "06/05/2024"), (120, "Phone"), (450, "40.00"))),
    )
    statement = read_statement([(1, page)], PAGE_HEIGHT).primary.statement
    assert [t.amount for t in statement.transactions] == [Decimal("-80.00"), Decimal("-40.00")]


def test_a_section_word_continuing_a_description_is_no_title() -> None:
    page = rows(
        (100, SECTION_HEADER),
        (115, ((40, "02/05/2024"), (120, "Transfer to savings"), (450, "-80.00"))),
        (126, ((120, "Withdrawals"),)),  # the description's second line, set close under it
        (141, ((40, "03/05/2024"), (120, "Refund"), (450, "40.00"))),
    )
    statement = read_statement([(1, page)], PAGE_HEIGHT).primary.statement
    assert [(t.description, t.amount) for t in statement.transactions] == [
        ("Transfer to savings Withdrawals", Decimal("-80.00")),
        ("Refund", Decimal("40.00")),
    ]


def test_daily_balance_and_side_by_side_summaries_are_not_rows() -> None:
    page = rows(
        (30, ((40, "Statement period: 01/03/2024 to 31/03/2024"),)),
        (100, SECTION_HEADER),
        (115, ((40, "02/03/2024"), (120, "Salary"), (450, "900.00"))),
        (130, ((40, "05/03/2024"), (120, "Rent"), (450, "-700.00"))),
        (160, ((40, "Daily ending balance"),)),
        (175, ((40, "Date"), (150, "Amount"))),
        (190, ((40, "02/03/2024"), (150, "1,900.00"))),
        (205, ((40, "05/03/2024"), (150, "1,200.00"))),
        (240, ((40, "Date"), (120, "Amount"), (300, "Date"), (380, "Amount"))),
        (255, ((40, "02/03/2024"), (120, "1,900.00"), (300, "05/03/2024"), (380, "1,200.00"))),
    )
    statement = read_statement([(1, page)], PAGE_HEIGHT).primary.statement
    assert [t.amount for t in statement.transactions] == [Decimal("900.00"), Decimal("-700.00")]


def test_activity_repeated_by_type_is_left_out_when_the_balances_say_so() -> None:
    page1 = rows(
        (42, ((40, "Opening balance"), (450, "100.00"))),
        (54, ((40, "Closing balance"), (450, "250.00"))),
        (100, SECTION_HEADER),
        (115, ((40, "02/05/2024"), (120, "Salary"), (450, "200.00"))),
        (130, ((40, "03/05/2024"), (120, "Coffee"), (450, "-50.00"))),
    )
    page2 = rows(  # the same bookings, grouped by type, under a header of their own
        (90, ((40, "Your spending by category"),)),
        (100, SECTION_HEADER),
        (115, ((40, "03/05/2024"), (120, "Eating out"), (450, "-50.00"))),
    )
    statement = read_statement([(1, page1), (2, page2)], PAGE_HEIGHT).primary.statement
    assert [t.description for t in statement.transactions] == ["Salary", "Coffee"]


def test_a_table_of_new_bookings_stays_when_the_balances_need_it() -> None:
    page1 = rows(
        (42, ((40, "Opening balance"), (450, "100.00"))),
        (54, ((40, "Closing balance"), (450, "200.00"))),
        (100, SECTION_HEADER),
        (115, ((40, "02/05/2024"), (120, "Salary"), (450, "200.00"))),
        (130, ((40, "03/05/2024"), (120, "Coffee"), (450, "-50.00"))),
        (145, ((40, "Total"), (450, "150.00"))),
        (190, SECTION_HEADER),
        (205, ((40, "03/05/2024"), (120, "Coffee"), (450, "-50.00"))),
    )
    statement = read_statement([(1, page1)], PAGE_HEIGHT).primary.statement
    assert len(statement.transactions) == 3  # a second coffee the same day is a booking


def test_the_booked_amount_not_the_original_currency_amount() -> None:
    header = ((40, "Date"), (120, "Description"), (330, "Original amount"), (450, "Amount"))
    page = rows(
        (100, header),
        (115, ((40, "02/05/2024"), (120, "HOTEL NEW YORK"), (330, "USD 120.00"), (450, "-110.35"))),
        (130, ((40, "03/05/2024"), (120, "Bakery"), (450, "-4.20"))),
    )
    statement = read_statement([(1, page)], PAGE_HEIGHT).primary.statement
    assert [t.amount for t in statement.transactions] == [Decimal("-110.35"), Decimal("-4.20")]


def test_a_blank_opening_and_a_lost_minus_are_settled_by_the_closing() -> None:
    """'Kontostand am 28.12.2024' with an empty cell is nothing owed when the closing agrees;
    then the one row whose sign alone explains the closing is turned (its minus lost)."""
    header = ((40, "Datum"), (120, "Buchungstext"), (450, "Betrag"))
    page = rows(
        (40, ((40, "Kontostand am 28.12.2024"),)),
        (100, header),
        (115, ((40, "29.12."), (120, "SHELL TANKSTELLE"), (450, "51,23-"))),
        (130, ((40, "06.01."), (120, "RECHNUNG VODAFONE"), (450, "39,44"))),
        (180, ((40, "Kontostand am 14.01.2025"), (450, "90,67-"))),
    )
    statement = read_statement([(1, page)], PAGE_HEIGHT).primary.statement
    assert [(t.date, t.amount) for t in statement.transactions] == [
        (dt.date(2024, 12, 29), Decimal("-51.23")),
        (dt.date(2025, 1, 6), Decimal("-39.44")),
    ]
    assert (statement.opening_balance, statement.closing_balance) == (
        Decimal("0"),
        Decimal("-90.67"),
    )


def test_a_two_line_header_whose_titles_sit_as_close_as_words() -> None:
    """'Card Transaction' over 'ID Details' are two titles, and two date titles two columns."""
    page = rows(
        (
            100,
            (
                (31, "Date"),
                (78, "Date of"),
                (140, "Card"),
                (166, "Transaction"),
                (300, "Withdrawals"),
                (370, "Deposits"),
                (430, "Balance"),
            ),
        ),
        (108, ((31, "Processed"), (78, "Transaction"), (140, "ID"), (166, "Details"))),
        (
            130,
            (
                (31, "06-01-2021"),
                (78, "05-31-2021"),
                (140, "1111"),
                (166, "Best Parking"),
                (310, "$25.00"),
                (430, "$4,475.25"),
            ),
        ),
    )
    row = read_statement([(1, page)], PAGE_HEIGHT).primary.statement.transactions[0]
    assert (row.date, row.value_date, row.description, row.reference, row.amount) == (
        dt.date(2021, 6, 1),
        dt.date(2021, 5, 31),
        "Best Parking",
        "1111",
        Decimal("-25.00"),
    )


def test_running_balances_under_an_amount_title_beside_deposit_and_withdrawal_columns() -> None:
    # The right-hand column is titled 'Amount' but holds the running balance: the arithmetic
    # says so (each figure follows from the one before), and the closing agrees.
    header = (
        (40, "Date"),
        (120, "Description"),
        (300, "Deposits"),
        (380, "Withdrawals"),
        (460, "Amount"),
    )
    lines = rows(
        (100, header),
        (115, ((40, "10/06/2021"), (120, "Opening Balance"), (460, "4,250.00"))),
        (130, ((40, "10/07/2021"), (120, "Cash Deposit"), (300, "1,250.00"), (460, "5,500.00"))),
        (145, ((40, "10/10/2021"), (120, "Utility"), (380, "245.35"), (460, "5,254.65"))),
        (160, ((40, "10/15/2021"), (120, "Cheque"), (300, "750.00"), (460, "6,004.65"))),
        (175, ((40, "11/06/2021"), (120, "Closing Balance"), (460, "6,004.65"))),
    )
    statement = read_statement([(1, lines)], PAGE_HEIGHT).primary.statement
    assert [(t.amount, t.balance) for t in statement.transactions] == [
        (Decimal("1250.00"), Decimal("5500.00")),
        (Decimal("-245.35"), Decimal("5254.65")),
        (Decimal("750.00"), Decimal("6004.65")),
    ]


def test_figures_in_a_third_money_column_that_do_not_chain_are_no_balances() -> None:
    # An 'Amount' column beside deposits and withdrawals whose figures do not follow from one
    # another (here: the amount again, in another currency) is not a running balance.
    header = (
        (40, "Date"),
        (120, "Description"),
        (300, "Deposits"),
        (380, "Withdrawals"),
        (460, "Amount"),
    )
    lines = rows(
        (100, header),
        (130, ((40, "10/07/2021"), (120, "Cash Deposit"), (300, "1,250.00"), (460, "1,100.00"))),
        (145, ((40, "10/10/2021"), (120, "Utility"), (380, "245.35"), (460, "216.00"))),
        (160, ((40, "10/15/2021"), (120, "Cheque"), (300, "750.00"), (460, "660.00"))),
    )
    statement = read_statement([(1, lines)], PAGE_HEIGHT).primary.statement
    assert [t.balance for t in statement.transactions] == [None, None, None]
    assert statement.closing_balance is None


def test_a_statement_without_a_closing_balance_ends_on_its_last_running_balance() -> None:
    lines = rows(
        (100, EN_HEADER),
        (115, ((40, "08/10/2003"), (120, "Previous balance"), (480, "0.55"))),
        (130, ((40, "14/10/2003"), (120, "Payroll"), (400, "694.81"), (480, "695.36"))),
        (145, ((40, "06/11/2003"), (120, "Mortgage"), (330, "710.49"), (480, "-15.13"))),
    )
    statement = read_statement([(1, lines)], PAGE_HEIGHT).primary.statement
    assert statement.closing_balance == Decimal("-15.13")
    newest_first = rows(
        (100, EN_HEADER),
        (130, ((40, "06/11/2003"), (120, "Mortgage"), (330, "710.49"), (480, "-15.13"))),
        (145, ((40, "14/10/2003"), (120, "Payroll"), (400, "694.81"), (480, "695.36"))),
        (160, ((40, "08/10/2003"), (120, "Previous balance"), (480, "0.55"))),
    )
    statement = read_statement([(1, newest_first)], PAGE_HEIGHT).primary.statement
    assert statement.closing_balance == Decimal("-15.13")


def test_a_two_line_header_whose_bottom_line_names_fewer_columns_alone() -> None:
    """'Check' over 'Number', 'Deposits/' over 'Additions', ... beside 'Date' and 'Description'
    printed on the bottom line only: the bottom line alone is a header without the check
    numbers, the two lines together one with them."""
    page = rows(
        (40, ((40, "Statement period: 07/11/2019 to 08/09/2019"),)),
        (100, ((125, "Check"), (300, "Deposits/"), (370, "Withdrawals/"), (450, "Ending daily"))),
        (
            109,
            (
                (40, "Date"),
                (120, "Number"),
                (170, "Description"),
                (300, "Additions"),
                (370, "Subtractions"),
                (460, "balance"),
            ),
        ),
        (130, ((40, "7/16"), (130, "367"), (170, "Deposited OR Cashed Check"), (380, "15.00"))),
        (145, ((40, "7/16"), (170, "Payroll 071519"), (310, "2,795.78"), (450, "1,477.61"))),
    )
    statement = read_statement([(1, page)], PAGE_HEIGHT).primary.statement
    assert [(t.reference, t.description, t.amount, t.balance) for t in statement.transactions] == [
        ("367", "Deposited OR Cashed Check", Decimal("-15.00"), None),
        (None, "Payroll 071519", Decimal("2795.78"), Decimal("1477.61")),
    ]
