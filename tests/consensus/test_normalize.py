from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dualread.consensus.normalize import field_key, normalize_statement
from dualread.parsing import (
    description_similarity,
    fold,
    iban_is_valid,
    is_carried_forward,
    month_from_name,
    normalize_description,
    normalize_iban,
    parse_amount,
    parse_date,
    year_in_period,
)
from dualread.parsing.sections import is_summary_title, section_direction
from tests.consensus.factories import row, statement

pytestmark = pytest.mark.unit

NBSP, NARROW_NBSP = "\u00a0", "\u202f"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234,56", "1234.56"),
        ("1 234,56", "1234.56"),
        (f"1{NBSP}234,56", "1234.56"),
        (f"1{NARROW_NBSP}234{NARROW_NBSP}567,89", "1234567.89"),
        ("1'234.56", "1234.56"),
        ("1’234.56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("1.234.567,89", "1234567.89"),
        ("1,23,456.78", "123456.78"),
        ("(12.00)", "-12.00"),
        ("12,00-", "-12.00"),
        ("-12.00", "-12.00"),
        ("−12,00", "-12.00"),
        ("+ 2.853,82", "2853.82"),
        ("- 5,00", "-5.00"),
        ("12.00 CR", "12.00"),
        ("12.00 DR", "-12.00"),
        ("12.00Dr.", "-12.00"),
        ("12,00 S", "-12.00"),
        ("12,00 H", "12.00"),
        ("€ 1.234,56", "1234.56"),
        ("1,234.56 USD", "1234.56"),
        ("EUR -5,00", "-5.00"),
        ("$-12.00", "-12.00"),
        ("-€12.00", "-12.00"),
        ("12.50€", "12.50"),
        ("1 234,56 руб.", "1234.56"),
        ("12,00 EUR S", "-12.00"),
        ("0,125", "0.125"),
        ("1234,567", "1234.567"),
        ("12,-", "12"),
        (",50", "0.50"),
        ("12.5", "12.5"),
    ],
)
def test_parse_amount_formats(text: str, expected: str) -> None:
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize(
    "text",
    ["", "-", "abc", "12.03.2024", "12 00", "1.23.456", "EUR", "(12.00) CR", "--12", "12..00"],
)
def test_parse_amount_rejects_non_amounts(text: str) -> None:
    assert parse_amount(text) is None


def test_ambiguous_three_decimals_follow_the_hint_else_the_two_decimals_rule() -> None:
    assert parse_amount("1,234") == Decimal("1234")
    assert parse_amount("1.234") == Decimal("1234")
    assert parse_amount("1,234", decimal_comma=True) == Decimal("1.234")
    assert parse_amount("1.234", decimal_comma=True) == Decimal("1234")
    assert parse_amount("1,234", decimal_comma=False) == Decimal("1234")
    assert parse_amount("1.234", decimal_comma=False) == Decimal("1.234")


def _grouped(integer: str, separator: str) -> str:
    groups: list[str] = []
    while len(integer) > 3:
        groups.insert(0, integer[-3:])
        integer = integer[:-3]
    return separator.join([integer, *groups])


# (thousands separator, decimal mark, hint to pass): every style statements print money in.
_STYLES = [
    (",", ".", False),
    (".", ",", True),
    (" ", ",", True),
    (NBSP, ",", True),
    (NARROW_NBSP, ",", None),
    ("'", ".", None),
    ("", ".", None),
    ("", ",", None),
]
_NEGATIVE = ["-{}", "({})", "{}-", "{} DR", "{} S", "- {}", "−{}", "{} Soll"]
_POSITIVE = ["{}", "+{}", "{} CR", "{} H", "+ {}"]
_CURRENCY = ["{}", "€ {}", "{} EUR", "${}", "{} ₽", "CHF {}"]


@settings(max_examples=300, deadline=None)
@given(
    cents=st.integers(min_value=0, max_value=10**11),
    style=st.sampled_from(_STYLES),
    negative=st.booleans(),
    sign_form=st.integers(min_value=0, max_value=100),
    currency=st.sampled_from(_CURRENCY),
)
def test_amount_round_trips_through_every_locale_style(
    cents: int,
    style: tuple[str, str, bool | None],
    negative: bool,
    sign_form: int,
    currency: str,
) -> None:
    separator, mark, hint = style
    value = Decimal(cents).scaleb(-2)
    integer, fraction = f"{value:.2f}".split(".")
    body = f"{_grouped(integer, separator)}{mark}{fraction}"
    forms = _NEGATIVE if negative and cents else _POSITIVE
    text = currency.format(forms[sign_form % len(forms)].format(body))
    expected = -value if negative and cents else value
    assert parse_amount(text, decimal_comma=hint) == expected, text


@settings(max_examples=100, deadline=None)
@given(units=st.integers(min_value=1000, max_value=10**9), mills=st.integers(0, 999))
def test_three_decimal_currencies_round_trip_when_both_marks_are_printed(
    units: int, mills: int
) -> None:
    text = f"{_grouped(str(units), '.')},{mills:03d}"
    assert parse_amount(text) == Decimal(f"{units}.{mills:03d}")


# --------------------------------------------------------------------------------------------

PERIOD = {"period_start": dt.date(2024, 3, 1), "period_end": dt.date(2024, 3, 31)}
NEW_YEAR = {"period_start": dt.date(2023, 12, 15), "period_end": dt.date(2024, 1, 14)}


@pytest.mark.parametrize(
    ("text", "hints", "expected"),
    [
        ("2024-03-05", {}, dt.date(2024, 3, 5)),
        ("2024-03-05T10:00:00", {}, dt.date(2024, 3, 5)),
        ("05.03.2024", {}, dt.date(2024, 3, 5)),
        ("05.03.24", {}, dt.date(2024, 3, 5)),
        ("05/03/24", {}, dt.date(2024, 3, 5)),
        ("03/05/2024", {"dayfirst": False}, dt.date(2024, 3, 5)),
        ("03/13/2024", {}, dt.date(2024, 3, 13)),  # only month-first is a date
        ("03/05/2024", PERIOD, dt.date(2024, 3, 5)),  # only day-first is in the period
        ("05.03.", PERIOD, dt.date(2024, 3, 5)),
        ("20.12.", NEW_YEAR, dt.date(2023, 12, 20)),
        ("13.01.", NEW_YEAR, dt.date(2024, 1, 13)),
        ("2 okt", {"period_start": dt.date(2024, 10, 1)}, dt.date(2024, 10, 2)),
        ("12 Jan 2024", {}, dt.date(2024, 1, 12)),
        ("Jan 12, 2024", {}, dt.date(2024, 1, 12)),
        ("12-JAN-24", {}, dt.date(2024, 1, 12)),
        ("12JAN2024", {}, dt.date(2024, 1, 12)),
        ("3 janv.", NEW_YEAR, dt.date(2024, 1, 3)),
        ("1er janvier 2024", {}, dt.date(2024, 1, 1)),
        ("5 déc", NEW_YEAR, dt.date(2023, 12, 5)),
        ("12 марта 2024", {}, dt.date(2024, 3, 12)),
        ("12 марта 2024 г.", {}, dt.date(2024, 3, 12)),
        ("1 мая 2024", {}, dt.date(2024, 5, 1)),
        ("3 mei 2024", {}, dt.date(2024, 5, 3)),
        ("3. März 2024", {}, dt.date(2024, 3, 3)),
        ("3. Dez. 2024", {}, dt.date(2024, 12, 3)),
    ],
)
def test_parse_date_formats(text: str, hints: dict[str, object], expected: dt.date) -> None:
    assert parse_date(text, **hints) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", "31.02.2024", "05.03.", "1 jui 2024", "hello", "2024"])
def test_parse_date_returns_none_rather_than_guessing(text: str) -> None:
    assert parse_date(text) is None


def test_month_names_resolve_only_when_unambiguous() -> None:
    assert month_from_name("Févr.") == 2
    assert month_from_name("maart") == 3
    assert month_from_name("сентября") == 9
    assert month_from_name("jui") is None
    assert month_from_name("ma") is None


_MONTHS = {
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    "de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
           "Oktober", "November", "Dezember"],
    "fr": ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
           "nov.", "déc."],
    "nl": ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"],
    "ru": ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
           "октября", "ноября", "декабря"],
}  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    day=st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2060, 12, 31)),
    style=st.sampled_from(["iso", "dmy.", "dmy/", "mdy/", "dmy2", "dm.", "named", "nodotday"]),
    language=st.sampled_from(sorted(_MONTHS)),
    before=st.integers(0, 40),
    after=st.integers(0, 40),
)
def test_date_round_trips_through_every_format(
    day: dt.date, style: str, language: str, before: int, after: int
) -> None:
    period = {
        "period_start": day - dt.timedelta(days=before),
        "period_end": day + dt.timedelta(days=after),
    }
    hints: dict[str, object] = {}
    month = _MONTHS[language][day.month - 1]
    if language == "nl" and month == "mrt":
        month = "maart"  # 'mrt' is an abbreviation by contraction, not by prefix
    text = {
        "iso": day.isoformat(),
        "dmy.": f"{day:%d.%m.%Y}",
        "dmy/": f"{day:%d/%m/%Y}",
        "mdy/": f"{day:%m/%d/%Y}",
        "dmy2": f"{day:%d.%m.%y}",
        "dm.": f"{day:%d.%m.}",
        "named": f"{day.day} {month} {day.year}",
        "nodotday": f"{day.day} {month}",
    }[style]
    if style == "dmy/":
        hints["dayfirst"] = True
    if style == "mdy/":
        hints["dayfirst"] = False
    if style in {"dm.", "nodotday", "dmy2"}:
        hints.update(period)
    assert parse_date(text, **hints) == day, text  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------


def test_iban_is_compacted_upper_cased_and_mod97_checked() -> None:
    assert normalize_iban("de89 3704 0044 0532 0130 00") == "DE89370400440532013000"
    assert normalize_iban("IBAN: GB82 WEST 1234 5698 7654 32") == "GB82WEST12345698765432"
    assert normalize_iban("DE89 3704 0044 0532 0130 01") is None  # one digit off
    assert normalize_iban("DE12") is None
    assert iban_is_valid("FR76 3000 6000 0112 3456 7890 189")
    assert not iban_is_valid("not an iban")


def test_descriptions_compare_after_nfkc_casefold_and_whitespace() -> None:
    assert normalize_description("  REWE\u00a0Markt\n Berlin ") == "rewe markt berlin"
    assert normalize_description("ＳＨＥＬＬ Straße") == "shell strasse"
    assert description_similarity("REWE Markt", "rewe  markt") == 1.0
    assert description_similarity("", "") == 1.0
    assert description_similarity("abc", "") == 0.0
    assert 0.8 < description_similarity("Kalverstraat Amsterdam", "Kalvorstraat Amsterdam") < 1
    assert description_similarity("REWE", "Deutsche Bahn") < 0.5


def test_fold_drops_case_diacritics_and_compatibility_forms() -> None:
    # one fold serves the embedded reader's column titles and the shared parsers alike
    assert fold("Débits ($)") == "debits ($)"
    assert fold("Févr.") == "fevr."
    assert fold("СЧЁТ") == "счет"
    assert fold("ℌ") == fold("Ｈ") == "h"


@pytest.mark.parametrize(
    "text",
    [
        "Übertrag",
        "Uebertrag von Seite 1",
        "Balance brought forward",
        "BALANCE CARRIED FORWARD",
        "Carried forward",
        "Saldo vorher",
        "Alter Saldo 1.234,56",
        "Report",
        "Solde reporté",
        "Ancien solde au 01/02",
        "Перенос",
        "Входящий остаток",
        "Saldo vorige",
        "Vorig saldo",
        "Opening balance",
    ],
)
def test_carried_forward_lines_are_recognised(text: str) -> None:
    assert is_carried_forward(text)


@pytest.mark.parametrize(
    "text",
    ["Übertrag auf Sparkonto", "Report fee", "Перенос средств на вклад", "REWE Markt", ""],
)
def test_bookings_that_share_a_word_are_not_carried_forward(text: str) -> None:
    assert not is_carried_forward(text)


def test_field_keys_ignore_spacing_and_case_of_identifiers_and_names() -> None:
    assert field_key("iban", "de89 3704") == field_key("iban", "DE893704")
    assert field_key("account_holder", "Anna  MÜLLER") == field_key("account_holder", "anna müller")
    assert field_key("opening_balance", Decimal("1.0")) == Decimal("1.00")


def test_normalize_statement_drops_carried_forward_rows_and_invalid_ibans() -> None:
    raw = statement(
        [row(1, "0", "1000.00", "Übertrag"), row(2, "-5.00", "995.00", "REWE   Markt")],
        iban="DE89 3704 0044 0532 0130 01",
        bic="cobadeff xxx",
        currency="eur",
    )
    clean = normalize_statement(raw)
    assert [t.description for t in clean.transactions] == ["REWE Markt"]
    assert clean.iban is None
    assert clean.bic == "COBADEFFXXX"
    assert clean.currency == "EUR"


@pytest.mark.parametrize(
    "label",
    [
        "À reporter",
        "Saldo van vorige pagina",
        "Saldo naar volgende pagina",
        "Перенос на следующую страницу",
    ],
)
def test_page_carry_labels_of_the_fixture_locales_are_not_transactions(label: str) -> None:
    assert is_carried_forward(label)


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        (dt.date(2025, 12, 29), dt.date(2024, 12, 29)),  # a year-end statement, read next year
        (dt.date(2024, 1, 3), dt.date(2025, 1, 3)),
        (dt.date(2024, 12, 20), dt.date(2024, 12, 20)),  # a few days before the period: kept
        (dt.date(2025, 1, 30), dt.date(2025, 1, 30)),
        (dt.date(2025, 7, 1), dt.date(2025, 7, 1)),  # no year puts 1 July near the period
    ],
)
def test_year_in_period_moves_only_dates_given_the_wrong_year(
    date: dt.date, expected: dt.date
) -> None:
    assert year_in_period(date, dt.date(2024, 12, 28), dt.date(2025, 1, 14)) == expected
    assert year_in_period(date, None, None) == date


def test_normalize_statement_moves_a_row_given_the_wrong_year_into_the_period() -> None:
    raw = statement(
        [row(29, "-51.23", month=12), row(3, "-16.57", month=1)],
        period_start=dt.date(2024, 12, 28),
        period_end=dt.date(2025, 1, 14),
    )  # both rows dated 2024, as a reader that assumed the first date's year would write
    assert [t.date for t in normalize_statement(raw).transactions] == [
        dt.date(2024, 12, 29),
        dt.date(2025, 1, 3),
    ]


@pytest.mark.parametrize(
    ("line", "direction"),
    [
        ("DEPOSITS AND ADDITIONS", "credit"),
        ("Deposits & other credits (continued)", "credit"),
        ("Checks paid (3)", "debit"),
        ("ATM & Debit Card Withdrawals", "debit"),
        ("Dépôts (suite)", "credit"),
        ("Lastschriften:", "debit"),
        ("Списания", "debit"),
        ("Mobile deposit", None),  # a booking's text, not a title
        ("Withdrawals 1,234.56", None),  # a summary line with its total
        ("Card purchase 12/03 GROCER", None),
    ],
)
def test_section_titles_say_which_way_their_bookings_go(line: str, direction: str | None) -> None:
    assert section_direction(line) == direction


def test_summary_titles_are_recognised_whole() -> None:
    assert is_summary_title("DAILY ENDING BALANCE")
    assert is_summary_title("Summary of checks written")
    assert not is_summary_title("Daily balance transfer to savings 12.00")
    assert not is_summary_title("Deposits")
