"""Row matching, header accuracy and arithmetic, against hand-made statements."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from dualread.evaluate.metrics import (
    RowScore,
    arithmetic_ok,
    header_matches,
    match_rows,
    score_rows,
)
from dualread.statement import HEADER_FIELDS, Statement, Transaction

pytestmark = pytest.mark.unit


def row(day: int, amount: str, text: str, balance: str | None = None) -> Transaction:
    return Transaction(
        date=dt.date(2024, 3, day),
        description=text,
        amount=Decimal(amount),
        balance=None if balance is None else Decimal(balance),
    )


TRUTH = Statement(
    bank_name="Thamesbridge Bank plc",
    account_holder="Aisha Begum",
    iban="GB82WEST12345698765432",
    bic="TBRGGB2L",
    currency="GBP",
    period_start=dt.date(2024, 3, 1),
    period_end=dt.date(2024, 3, 31),
    opening_balance=Decimal("100.00"),
    closing_balance=Decimal("2084.50"),
    transactions=[
        row(1, "2000.00", "Bank credit NORTHGATE LTD", "2100.00"),
        row(3, "-3.75", "Card payment PRET A MANGER", "2096.25"),
        row(3, "-3.75", "Card payment STARBUCKS", "2092.50"),
        row(9, "-8.00", "Card payment TFL TRAVEL", "2084.50"),
    ],
)


def test_a_perfect_reading_scores_one() -> None:
    score = score_rows(TRUTH, TRUTH)
    assert score == RowScore(4, 4, 4)
    assert (score.precision, score.recall, score.f1) == (1.0, 1.0, 1.0)


def test_same_day_same_amount_rows_pair_by_description() -> None:
    swapped = [TRUTH.transactions[2], TRUTH.transactions[1]]
    assert match_rows(TRUTH.transactions[1:3], swapped) == [(0, 1), (1, 0)]


def test_order_does_not_matter_but_duplicates_and_misreads_count() -> None:
    rows = list(reversed(TRUTH.transactions))
    assert score_rows(TRUTH, TRUTH.model_copy(update={"transactions": rows})).f1 == 1.0
    misread = [*TRUTH.transactions[:3], row(9, "-80.00", "Card payment TFL TRAVEL")]
    duplicated = [*TRUTH.transactions, TRUTH.transactions[0]]
    assert score_rows(TRUTH, TRUTH.model_copy(update={"transactions": misread})) == RowScore(
        3, 4, 4
    )
    score = score_rows(TRUTH, TRUTH.model_copy(update={"transactions": duplicated}))
    assert score == RowScore(4, 5, 4)
    assert score.precision == 0.8 and score.recall == 1.0


def test_a_dissimilar_description_does_not_match_but_ocr_slips_do() -> None:
    slip = row(9, "-8.00", "Card payrnent TFL TRAVE1")
    other = row(9, "-8.00", "Direct debit BRITISH GAS")
    assert match_rows([TRUTH.transactions[3]], [slip]) == [(0, 0)]
    assert match_rows([TRUTH.transactions[3]], [other]) == []


def test_empty_statements() -> None:
    empty = Statement()
    assert score_rows(empty, empty).f1 == 1.0
    assert score_rows(TRUTH, empty) == RowScore(0, 0, 4)
    assert score_rows(TRUTH, empty).f1 == 0.0


def test_header_fields_compare_after_normalisation() -> None:
    predicted = TRUTH.model_copy(
        update={
            "iban": "gb82 west 1234 5698 7654 32",
            "bank_name": "Thamesbridge Bank",  # free text: close enough
            "account_holder": "AISHA  BEGUM",
            "currency": "GBP",
            "closing_balance": Decimal("2084.5"),
            "bic": "TBRGGB2LXXX",  # identifiers must be exact
        }
    )
    result = header_matches(TRUTH, predicted, HEADER_FIELDS)
    assert [name for name, ok in result.items() if not ok] == ["bic"]


def test_a_null_truth_field_wants_null() -> None:
    predicted = TRUTH.model_copy(update={"account_number": "12345678"})
    assert header_matches(TRUTH, predicted, ("account_number",)) == {"account_number": False}


def test_arithmetic() -> None:
    assert arithmetic_ok(TRUTH)
    broken = TRUTH.model_copy(update={"closing_balance": Decimal("2084.00")})
    assert not arithmetic_ok(broken)
    assert not arithmetic_ok(Statement())  # nothing checkable is not a pass


def test_a_first_line_truth_matches_a_description_that_goes_on() -> None:
    # The devset transcribes a description's first printed line; a reader that also reads the
    # lines below it has read the same row.
    row = Transaction(
        date=dt.date(2022, 12, 30), amount=Decimal("-3.50"), description="PAPER STMNT FEE"
    )
    longer = row.model_copy(update={"description": "PAPER STMNT FEE PER STATEMENT 1.0"})
    other = row.model_copy(update={"description": "ACCOUNT FEE PER STATEMENT"})
    assert match_rows([row], [longer]) == []
    assert match_rows([row], [longer], first_line=True) == [(0, 0)]
    assert match_rows([row], [other], first_line=True) == []
