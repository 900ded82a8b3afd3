"""Header fields by label and pattern, beside or under their labels."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from dualread.stages.embedded.header import balance_label_kind, find_period, read_header
from dualread.stages.embedded.layout import Line
from dualread.stages.embedded.numbers import NumberFormat
from dualread.stages.embedded.words import Word
from tests.stages.embedded.conftest import line_at

pytestmark = pytest.mark.unit

GERMAN = NumberFormat(decimal_comma=True, dayfirst=True)


def test_postbank_style_fields_under_their_labels() -> None:
    page = [
        line_at(20, (70, "Kontoauszug: Postbank Giro plus vom 01.01.2020 bis 02.02.2020")),
        line_at(32, (70, "Kontoinhaber: Petra Pfiffig")),
        line_at(60, (75, "Auszug Seite IBAN"), (310, "BIC (SWIFT)"), (392, "Alter Kontostand")),
        line_at(
            71,
            (75, "001 1/2 DE31 2001 0020 9999 9999 99"),
            (310, "PBNKDEFF"),
            (392, "EUR"),
            (500, "+ 2.853.82"),
        ),
        line_at(100, (391, "Neuer Kontostand")),
        line_at(111, (391, "EUR"), (500, "+ 5.314,05")),
    ]
    fields = read_header([page], 842, GERMAN)
    assert fields.account_holder == "Petra Pfiffig"
    assert fields.iban == "DE31200100209999999999"
    assert fields.bic == "PBNKDEFF"
    assert (fields.period_start, fields.period_end) == (dt.date(2020, 1, 1), dt.date(2020, 2, 2))
    assert fields.opening_balance == Decimal("2853.82")
    assert fields.closing_balance == Decimal("5314.05")
    assert fields.currency == "EUR"
    assert not fields.card_statement


def test_an_iban_with_a_wrong_checksum_is_not_an_iban() -> None:
    page = [line_at(20, (40, "IBAN: DE31 2001 0020 9999 9999 98"))]
    assert read_header([page], 842, GERMAN).iban is None


def test_balances_as_of_two_dates_and_a_date_beside_an_amount() -> None:
    page = [
        line_at(20, (40, "Balance as of 31.10.2025: 14.470,04 €")),
        line_at(32, (40, "Balance as of 01.10.2025: 15.320,00 €")),
        line_at(44, (40, "Solde D'ouverture 1 avril 2025"), (300, "10 750,00 $")),
    ]
    fields = read_header([page], 842, GERMAN)
    assert fields.closing_balance == Decimal("14470.04")
    assert fields.opening_balance == Decimal("10750.00")  # the labelled one wins over 'as of'


def test_balances_as_of_two_dates_give_the_period_even_with_an_empty_amount() -> None:
    page = [
        line_at(20, (40, "KONTOSTAND AM 28.12.2024"), (300, "IHR KARTENKONTO")),
        line_at(200, (40, "KONTOSTAND AM 14.01.2025"), (400, "207,55-")),
    ]
    fields = read_header([page], 842, GERMAN)
    assert (fields.period_start, fields.period_end) == (dt.date(2024, 12, 28), dt.date(2025, 1, 14))
    assert (fields.opening_balance, fields.closing_balance) == (None, Decimal("-207.55"))
    assert fields.opening_blank


def test_bank_name_is_the_large_print_that_is_not_the_title() -> None:
    big = [
        Word("Thamesbridge", 48, 30, 150, 47),
        Word("Bank", 155, 30, 190, 47),
        Word("Statement", 420, 31, 480, 46),
    ]
    page = [Line(tuple(big)), line_at(60, (48, "Account holder: Eleanor R. Hughes"))]
    page += [line_at(72 + 12 * i, (48, f"Account number: 9813760{i}")) for i in range(3)]
    fields = read_header([page], 842, NumberFormat())
    assert fields.bank_name == "Thamesbridge Bank"
    assert fields.account_number == "98137600"


def test_card_statement_and_currency_label() -> None:
    page = [
        line_at(20, (40, "Credit Card Statement")),
        line_at(32, (40, "Card number: XXXX XXXX XXXX 4522")),
        line_at(44, (40, "Currency: USD")),
    ]
    fields = read_header([page], 842, NumberFormat())
    assert fields.card_statement and fields.currency == "USD"
    assert fields.account_number == "XXXX XXXX XXXX 4522"


def test_a_long_sentence_with_two_dates_is_not_the_period() -> None:
    prose = (
        "A monthly service fee has been charged based on your average Total Relationship "
        "Balance of $11,559.24 from 1 Sep 2024 to 30 Nov 2024."
    )
    assert find_period([line_at(20, (40, prose))], NumberFormat()) is None


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Alter Kontostand", "opening"),
        ("Входящий остаток", "opening"),
        ("Saldo naar volgende pagina", "closing"),
        ("Nouveau solde", "closing"),
        ("Card payment TESCO", None),
    ],
)
def test_balance_labels(text: str, kind: str | None) -> None:
    assert balance_label_kind(text) == kind


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("Statement Period: Jun 1 - Jun 30, 2021", (dt.date(2021, 6, 1), dt.date(2021, 6, 30))),
        ("For Dec 1 to Dec 31, 2022", (dt.date(2022, 12, 1), dt.date(2022, 12, 31))),
        ("from 15 Dec to 14 Jan 2025", (dt.date(2024, 12, 15), dt.date(2025, 1, 14))),
        ("March 12, 2004 to April 12, 2004", (dt.date(2004, 3, 12), dt.date(2004, 4, 12))),
        ("Paid 12 Mar to J Smith on 01/04/2024", None),  # a booking's text, not a period
    ],
)
def test_a_period_whose_start_prints_no_year_or_a_month_name(
    text: str, period: tuple[dt.date, dt.date] | None
) -> None:
    assert find_period([line_at(10, (40, text))], NumberFormat()) == period


def test_a_labelled_balance_with_other_print_after_it_on_its_line() -> None:
    page = [
        line_at(20, (40, "Beginning balance on 7/11 $13,216.58"), (300, "Rachael Dean")),
        line_at(32, (40, "Your opening balance on March 12, 2004 $4,247.14 Try our new service")),
        line_at(44, (40, "Ending balance on 8/9 1.250,00 EUR"), (300, "For Direct Deposit use")),
    ]
    fields = read_header([page], 842, NumberFormat(decimal_comma=True))
    assert fields.opening_balance == Decimal("13216.58")
    assert fields.closing_balance == Decimal("1250.00")


def test_a_day_and_month_after_a_balance_label_is_no_balance() -> None:
    page = [line_at(20, (40, "Closing balance on 12.03"), (300, "Page 1"))]
    assert read_header([page], 842, NumberFormat(decimal_comma=True)).closing_balance is None


def _statement_header(top: float, period: str, opening: str, closing: str) -> list[Line]:
    return [
        line_at(top, (40, f"Statement period from {period}")),
        line_at(top + 12, (40, f"Opening balance ${opening}")),
        line_at(top + 24, (40, f"Closing balance ${closing}")),
    ]


def test_consecutive_statements_in_one_file_span_from_the_first_to_the_last() -> None:
    february = _statement_header(20, "1 Feb 2026 to 28 Feb 2026", "2,410.55", "4,755.46")
    march = _statement_header(20, "1 Mar 2026 to 31 Mar 2026", "4,755.46", "7,673.61")
    fields = read_header([february, [], march], 842, NumberFormat())
    assert (fields.period_start, fields.period_end) == (dt.date(2026, 2, 1), dt.date(2026, 3, 31))
    assert fields.opening_balance == Decimal("2410.55")
    assert fields.closing_balance == Decimal("7673.61")


def test_two_periods_that_do_not_follow_each_other_are_not_one_span() -> None:
    first = _statement_header(20, "1 Feb 2026 to 28 Feb 2026", "2,410.55", "4,755.46")
    later = _statement_header(20, "1 Apr 2026 to 30 Apr 2026", "4,755.46", "7,673.61")
    fields = read_header([first, later], 842, NumberFormat())
    assert (fields.period_start, fields.period_end) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert fields.closing_balance == Decimal("4755.46")


def test_the_next_statement_period_named_in_passing_leaves_the_period_alone() -> None:
    page = [
        line_at(20, (40, "Statement period 01/01/2024 to 31/01/2024")),
        line_at(32, (40, "Opening balance $100.00")),
        line_at(44, (40, "Closing balance $150.00")),
        line_at(700, (40, "Next statement period 01/02/2024 to 29/02/2024")),
    ]
    fields = read_header([page], 842, NumberFormat(dayfirst=True))
    assert (fields.period_start, fields.period_end) == (dt.date(2024, 1, 1), dt.date(2024, 1, 31))
    assert fields.closing_balance == Decimal("150.00")


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("Período: 01/08/2025 a 31/08/2025", (dt.date(2025, 8, 1), dt.date(2025, 8, 31))),
        (
            "Statement Period 01-Oct-2025 to 31-Oct-2025",
            (dt.date(2025, 10, 1), dt.date(2025, 10, 31)),
        ),
    ],
)
def test_a_period_labelled_in_portuguese_or_with_hyphenated_dates(
    text: str, period: tuple[dt.date, dt.date]
) -> None:
    assert find_period([line_at(10, (40, text))], NumberFormat(dayfirst=True)) == period


@pytest.mark.parametrize(
    ("texts", "currency"),
    [
        (["Saldo Anterior: R$ 2.500,00"], "BRL"),
        (["Beleg Valuta Beschreibung Betrag in Euro"], "EUR"),
        (["Royal Bank of Canada", "Opening balance $4,247.14"], "CAD"),
        (["Kowhai Bank NZ", "Opening balance $1,250.00"], "NZD"),
        (["Opening balance $1,250.00"], None),  # a bare dollar, no country named: no guess
        (["Outside Canada and the U.S.", "Opening balance $1,250.00"], None),
    ],
)
def test_currency_from_a_symbol_or_a_name(texts: list[str], currency: str | None) -> None:
    page = [line_at(20 + 12 * i, (40, text)) for i, text in enumerate(texts)]
    assert read_header([page], 842, NumberFormat()).currency == currency


def test_a_country_named_below_the_letterhead_gives_a_bare_dollar_no_currency() -> None:
    page = [
        line_at(20, (40, "Opening balance $1,250.00")),
        line_at(700, (40, "Travelling? Outside Canada call 1-800-000-0000")),
    ]
    assert read_header([page], 842, NumberFormat()).currency is None
