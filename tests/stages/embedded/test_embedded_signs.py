"""The statement's own arithmetic chooses which way unsigned amounts go."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dualread.stages.embedded.signs import SignedRow, choose_signs, fit

pytestmark = pytest.mark.unit

D = Decimal


def _rows(*items: tuple[str, str | None, str]) -> list[SignedRow]:
    return [SignedRow(D(a), D(b) if b is not None else None, g) for a, b, g in items]


def test_swapped_money_in_and_out_columns_are_turned_by_the_balance_chain() -> None:
    # Columns guessed in the wrong order: money in was read as money out and the reverse.
    rows = _rows(
        ("-0.07", "4.09", "debit"), ("-300.00", "304.09", "debit"), ("15.00", "289.09", "credit")
    )
    assert choose_signs(rows, D("4.02"), D("289.09")) == [D("0.07"), D("300.00"), D("-15.00")]


def test_a_reading_the_arithmetic_already_confirms_is_kept() -> None:
    rows = _rows(("5000.00", "7500.00", "amount"), ("-150.00", "7350.00", "amount"))
    assert choose_signs(rows, D("2500.00"), D("7350.00")) is None


def test_nothing_printed_to_check_changes_nothing() -> None:
    rows = _rows(("2999.00", None, "amount"), ("850.00", None, "amount"))
    assert choose_signs(rows, None, None) is None


def test_one_row_whose_printed_balance_says_otherwise_is_turned() -> None:
    # An unsigned single-amount column: each balance step gives that row's direction.
    rows = _rows(("5000.00", "7500.00", "amount"), ("150.00", "7350.00", "amount"))
    assert choose_signs(rows, D("2500.00"), None) == [D("5000.00"), D("-150.00")]


def test_a_day_balanced_once_turns_only_the_row_that_fits() -> None:
    # Two rows share one balance, printed on the day's last row: only turning the first fits.
    rows = _rows(("4.00", None, "amount"), ("10.00", "106.00", "amount"))
    assert choose_signs(rows, D("100.00"), None) == [D("-4.00"), D("10.00")]


def test_no_interpretation_fits_leaves_the_reading_alone() -> None:
    rows = _rows(("1.00", "50.00", "amount"), ("2.00", "90.00", "amount"))
    assert choose_signs(rows, D("10.00"), None) is None


def test_fit_counts_each_miss_once() -> None:
    result = fit([D("1"), D("1"), D("1")], [D("11"), D("20"), D("21")], D("10"), D("21"))
    assert (result.checks, result.breaks) == (3, 1)


def test_one_row_that_alone_explains_the_closing_is_turned() -> None:
    # No running balance: opening + sum = closing is the one equation, and one row fits it.
    rows = _rows(("-51.23", None, "amount"), ("39.44", None, "amount"), ("-15.79", None, "amount"))
    assert choose_signs(rows, D("0.00"), D("-106.46")) == [D("-51.23"), D("-39.44"), D("-15.79")]


def test_two_rows_that_could_explain_the_closing_turn_neither() -> None:
    rows = _rows(("-10.00", None, "amount"), ("5.00", None, "amount"), ("5.00", None, "amount"))
    assert choose_signs(rows, D("0.00"), D("-10.00")) is None
