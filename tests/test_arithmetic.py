from __future__ import annotations

from decimal import Decimal

import pytest

from dualread.arithmetic import check, detect_order
from dualread.statement import Statement
from tests.consensus.factories import OPENING, chained, row, statement, with_rows

pytestmark = pytest.mark.unit

AMOUNTS = ["-10.00", "250.00", "-35.50", "-4.50"]


def test_consistent_statement_passes_every_check() -> None:
    report = check(statement(chained(AMOUNTS)))
    assert report.ok is True
    assert report.totals_ok is True
    assert report.totals_difference == 0
    assert report.closing_matches_last_balance is True
    assert report.chain_links_checked == 4
    assert report.chain_breaks == report.sign_flips == report.page_breaks == ()
    assert report.violations == 0


def test_opening_plus_sum_equals_closing_reports_the_difference() -> None:
    rows = chained(AMOUNTS, balances=False)
    good = statement(rows)
    assert good.closing_balance is not None
    report = check(good.model_copy(update={"closing_balance": good.closing_balance + 5}))
    assert report.totals_ok is False
    assert report.totals_difference == Decimal("5.00")
    assert report.ok is False


def test_totals_not_checkable_without_both_balances() -> None:
    report = check(statement(chained(AMOUNTS, balances=False), opening_balance=None))
    assert report.totals_ok is None
    assert report.totals_difference is None
    assert report.ok is None  # nothing checkable is not "passed"


def test_chain_names_the_row_with_a_wrong_amount() -> None:
    rows = chained(AMOUNTS)
    rows[2] = rows[2].model_copy(update={"amount": Decimal("-53.50")})  # digits swapped
    report = check(statement(rows))
    assert report.chain_breaks == (2,)


def test_chain_names_a_wrong_balance_and_the_row_after_it_only() -> None:
    rows = chained(AMOUNTS)
    rows[1] = rows[1].model_copy(update={"balance": Decimal("1420.00")})
    assert check(statement(rows)).chain_breaks == (1, 2)


def test_dropped_row_breaks_the_chain_at_the_next_row() -> None:
    rows = chained(AMOUNTS)
    report = check(statement(rows[:1] + rows[2:]))
    assert report.chain_breaks == (1,)


def test_rows_without_a_printed_balance_accumulate_into_the_next_one() -> None:
    rows = chained(AMOUNTS)
    rows[1] = rows[1].model_copy(update={"balance": None})
    report = check(statement(rows))
    assert report.ok is True
    assert report.chain_links_checked == 3


def test_sign_flip_is_named_from_the_chain() -> None:
    rows = chained(AMOUNTS)
    rows[1] = rows[1].model_copy(update={"amount": Decimal("-250.00")})
    report = check(statement(rows))
    assert report.sign_flips == (1,)
    assert report.chain_breaks == (1,)


def test_sign_flip_is_named_from_the_totals_when_no_balance_is_printed() -> None:
    rows = chained(AMOUNTS, balances=False)
    truth = statement(rows)
    rows[2] = rows[2].model_copy(update={"amount": Decimal("35.50")})
    assert check(with_rows(truth, rows)).sign_flips == (2,)


def test_reverse_chronological_order_is_detected_and_checked() -> None:
    rows = chained(AMOUNTS)
    newest_first = statement(rows[::-1])
    assert detect_order(newest_first) == "reverse"
    report = check(newest_first)
    assert report.order == "reverse"
    assert report.ok is True
    broken = newest_first.transactions.copy()
    broken[0] = broken[0].model_copy(update={"amount": Decimal("-5.40")})
    assert check(with_rows(newest_first, broken)).chain_breaks == (0,)


def test_reverse_order_without_balances_is_detected_from_dates() -> None:
    rows = chained(AMOUNTS, balances=False)
    assert detect_order(statement(rows[::-1])) == "reverse"
    assert detect_order(statement(rows)) == "chronological"


def test_page_continuity_names_the_page_whose_first_balance_does_not_follow() -> None:
    rows = chained(AMOUNTS, pages=[1, 1, 2, 2])
    rows[2] = rows[2].model_copy(update={"balance": rows[2].balance + 100})  # type: ignore[operator]
    report = check(statement(rows))
    assert report.page_breaks == (2,)
    assert report.ok is False


def test_carried_forward_rows_are_checkpoints_not_transactions() -> None:
    rows = chained(AMOUNTS, pages=[1, 1, 2, 2])
    carried = row(2, "0", str(rows[1].balance), "Übertrag", page=2)
    report = check(statement([*rows[:2], carried, *rows[2:]]))
    assert report.ok is True
    assert report.totals_ok is True  # its "amount" is not summed
    wrong = carried.model_copy(update={"balance": Decimal("1.00")})
    assert check(statement([*rows[:2], wrong, *rows[2:]])).page_breaks == (2,)


def test_closing_must_match_the_last_printed_balance() -> None:
    rows = chained(AMOUNTS)
    good = statement(rows)
    report = check(good.model_copy(update={"closing_balance": Decimal("1.00")}))
    assert report.closing_matches_last_balance is False


def test_dates_out_of_order_and_outside_the_period_are_reported() -> None:
    rows = chained(AMOUNTS)
    rows[2] = rows[2].model_copy(update={"date": rows[0].date.replace(day=1, month=2)})
    report = check(statement(rows))
    assert report.dates_out_of_order == (2,)
    assert report.dates_outside_period == (2,)
    assert report.violations == 0  # dates are not arithmetic
    assert report.inconsistencies == 2


def test_empty_statement_is_not_checkable() -> None:
    report = check(Statement())
    assert report.ok is None
    assert report.checked == 0


def test_report_serialises_money_as_strings() -> None:
    rows = chained(AMOUNTS)
    data = check(statement(rows, closing_balance=OPENING)).to_dict()
    assert data["totals_difference"] == "-200.00"
    assert data["ok"] is False
    assert data["chain_breaks"] == []
    assert set(data) >= {"order", "sign_flips", "page_breaks", "closing_matches_last_balance"}
