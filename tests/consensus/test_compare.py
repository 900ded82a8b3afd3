from __future__ import annotations

import pytest

from dualread.consensus import decide, explain
from dualread.statement import Statement
from tests.consensus.factories import candidate, chained, row, statement, with_rows

pytestmark = pytest.mark.unit

AMOUNTS = ["-10.00", "250.00", "-35.50", "-4.50", "-12.00"]
PAGES = [1, 1, 2, 2, 3]


def _base() -> Statement:
    return statement(chained(AMOUNTS, pages=PAGES))


def _vote(a: Statement, b: Statement) -> str:
    return decide([candidate("visual", a, (1, 2, 3)), candidate("ocr", b, (1, 2, 3))]).status


def test_identical_readings_agree() -> None:
    assert _vote(_base(), _base()) == "agreed"


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
    assert _vote(base, other) == "agreed"


def test_explain_reports_a_dropped_row_once() -> None:
    base = _base()
    rows = base.transactions
    text = explain(base, with_rows(base, rows[:1] + rows[2:]))
    assert "slot 2" in text
    assert "slot 3" not in text and "slot 4" not in text  # later rows are not shifted
    assert explain(base, base) == "The two readings agree after normalisation."
