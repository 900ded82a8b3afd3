"""A document's number and date style, decided once from unambiguous evidence."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from dualread.stages.embedded.numbers import (
    NumberFormat,
    detect_format,
    find_dates,
    parse_day,
    parse_money,
)

pytestmark = pytest.mark.unit


def test_decimal_comma_from_grouped_amounts_not_from_dates() -> None:
    tokens = ["19.01.", "02.10", "1.234,56", "-19,25", "03.10", "04.10", "05.10"]
    assert detect_format(tokens).decimal_comma is True
    assert detect_format(["1,234.56", "12.20", "07/24/2025"]).decimal_comma is False
    assert detect_format(["Hello"]).decimal_comma is None


def test_day_order_from_impossible_months() -> None:
    assert detect_format(["06/01/2025", "07/24/2025"]).dayfirst is False
    assert detect_format(["24/07/2025", "01/06/2025"]).dayfirst is True
    assert detect_format(["01/06/2025"]).dayfirst is None


@pytest.mark.parametrize(
    ("text", "decimal_comma", "value"),
    [
        ("+ 2.853,82", True, Decimal("2853.82")),
        ("2.853.82", True, Decimal("2853.82")),  # the Postbank demo's typo for 2.853,82
        ("EUR + 2.853.82", True, Decimal("2853.82")),
        ("1.234.5", True, None),  # no reading, typo or not
        ("10 662,91 $", True, Decimal("10662.91")),
        ("(12.00)", False, Decimal("-12.00")),
    ],
)
def test_parse_money(text: str, decimal_comma: bool, value: Decimal | None) -> None:
    assert parse_money(text, NumberFormat(decimal_comma=decimal_comma)) == value


def test_dates_without_a_year_take_it_from_the_period() -> None:
    numbers = NumberFormat(
        decimal_comma=True, period_start=dt.date(2019, 12, 15), period_end=dt.date(2020, 1, 14)
    )
    assert parse_day("19.01.", NumberFormat(period_end=dt.date(2020, 2, 2))) == dt.date(2020, 1, 19)
    assert parse_day("20.12.", numbers) == dt.date(2019, 12, 20)
    assert parse_day("03.01.", numbers) == dt.date(2020, 1, 3)


def test_find_dates_in_text() -> None:
    us = NumberFormat(dayfirst=False)
    assert find_dates("Opening/Closing Date 06/01/2025 - 06/30/2025", us) == [
        dt.date(2025, 6, 1),
        dt.date(2025, 6, 30),
    ]
    assert find_dates("HBBDA 1 avril 2025 - 30 avril 2025", NumberFormat()) == [
        dt.date(2025, 4, 1),
        dt.date(2025, 4, 30),
    ]
    assert find_dates("Balance as of 01.10.2025: 15.320,00", NumberFormat()) == [
        dt.date(2025, 10, 1)
    ]
    assert find_dates("Amount 1.234,56 EUR", NumberFormat()) == []
