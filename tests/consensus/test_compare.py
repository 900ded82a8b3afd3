from __future__ import annotations

from decimal import Decimal

import pytest

from dualread.consensus import agree, explain
from dualread.consensus.compare import row_differences
from dualread.statement import Statement
from tests.consensus.factories import candidate, chained, row, statement, with_rows

pytestmark = pytest.mark.unit

AMOUNTS = ["-10.00", "250.00", "-35.50", "-4.50", "-12.00"]
PAGES = [1, 1, 2, 2, 3]


def _base() -> Statement:
    return statement(chained(AMOUNTS, pages=PAGES))


def test_identical_readings_agree() -> None:
    verdict = agree(_base(), _base())
    assert verdict.agreed
    assert verdict.disputed_pages == frozenset()
    assert len(verdict.slots) == 5


def test_spelling_differences_vanish_after_normalisation() -> None:
    base = _base()
    other = base.model_copy(
        update={
            "iban": "de89 3704 0044 0532 0130 00",
            "bank_name": "TESTBANK ",
            "currency": "eur",
            "transactions": [
                t.model_copy(update={"description": t.description.upper() + "  "})
                for t in base.transactions
            ]
            + [row(5, "0", "1188.00", "Übertrag", page=3)],  # a carried-forward line
        }
    )
    assert agree(base, other).agreed


def test_dropped_row_is_one_disputed_slot_on_its_page() -> None:
    base = _base()
    rows = base.transactions
    verdict = agree(base, with_rows(base, rows[:2] + rows[3:]))
    assert not verdict.agreed
    assert [(d.slot, d.rows, d.fields) for d in verdict.disputed_slots] == [
        (2, (2, None), ("row",))
    ]
    assert verdict.disputed_pages == frozenset({2})


def test_misread_amount_and_description_are_named() -> None:
    base = _base()
    rows = list(base.transactions)
    rows[3] = rows[3].model_copy(update={"amount": Decimal("-5.40")})
    rows[4] = rows[4].model_copy(update={"description": "Kiosk am Bahnhof"})
    verdict = agree(base, with_rows(base, rows))
    assert [(d.slot, d.fields) for d in verdict.disputed_slots] == [
        (3, ("amount",)),
        (4, ("description",)),
    ]
    assert verdict.disputed_pages == frozenset({2, 3})


def test_rows_differing_in_date_and_amount_are_two_slots() -> None:
    base = _base()
    rows = list(base.transactions)
    rows[4] = rows[4].model_copy(update={"amount": Decimal("-21.00"), "date": rows[0].date})
    verdict = agree(base, with_rows(base, rows))
    assert [d.fields for d in verdict.disputed_slots] == [("row",), ("row",)]


def test_header_disputes_map_to_first_or_last_page() -> None:
    base = _base()
    a = candidate("visual", base, pages=(1, 2, 3))
    b = candidate(
        "ocr",
        base.model_copy(update={"closing_balance": Decimal("1.00"), "bank_name": "Other"}),
        pages=(1, 2, 3),
    )
    verdict = agree(a, b)
    assert set(verdict.header_differences) == {"closing_balance", "bank_name"}
    assert verdict.disputed_pages == frozenset({1, 3})
    assert verdict.to_dict()["header_differences"]["closing_balance"][1] == "1.00"


def test_row_differences_ignore_a_missing_balance_but_not_a_different_one() -> None:
    a = row(1, "-5.00", "95.00", "Shop")
    assert row_differences([a, a.model_copy(update={"balance": None})]) == ()
    assert row_differences([a, a.model_copy(update={"balance": Decimal("59.00")})]) == ("balance",)
    assert row_differences([a, None]) == ("row",)


def test_explain_reports_a_dropped_row_once() -> None:
    base = _base()
    rows = base.transactions
    text = explain(base, with_rows(base, rows[:1] + rows[2:]))
    assert "slot 2" in text
    assert "slot 3" not in text and "slot 4" not in text  # later rows are not shifted
    assert explain(base, base) == "The two readings agree after normalisation."
